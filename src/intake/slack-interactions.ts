import { type Static, Type } from '@sinclair/typebox';
import { decideApproval } from '../approvals/decide.js';
import { delegationsTo } from '../approvals/delegation.js';
import {
  parseSlackTarget,
  renderApproveModal,
  renderRejectModal,
  SLACK_ACTIONS,
  type SlackTarget,
} from '../channels/slack-blocks.js';
import { slackPerson } from '../channels/slack-people.js';
import { decide } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import { checkInputs, type InputSchema, inputsFromForm } from '../core/inputs.js';
import type { Actor, Verdict } from '../core/model.js';
import { findUnacceptableText } from '../input-rules.js';
import type { SlackApi } from '../ports.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import { compileOnFirstUse } from '../validation.js';

const SlackId = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9]+$' });

// Slack adds fields over time: unknown ones are ignored, the ones read here are checked.
const BlockActions = Type.Object({
  type: Type.Literal('block_actions'),
  user: Type.Object({ id: SlackId }),
  trigger_id: Type.Optional(Type.String({ maxLength: 200 })),
  channel: Type.Optional(Type.Object({ id: SlackId })),
  actions: Type.Array(
    Type.Object({
      action_id: Type.String({ maxLength: 255 }),
      value: Type.Optional(Type.String({ maxLength: 2000 })),
    }),
    { minItems: 1, maxItems: 5 },
  ),
});

const ViewSubmission = Type.Object({
  type: Type.Literal('view_submission'),
  user: Type.Object({ id: SlackId }),
  view: Type.Object({
    callback_id: Type.String({ maxLength: 255 }),
    private_metadata: Type.String({ maxLength: 3000 }),
    state: Type.Object({
      values: Type.Record(
        Type.String(),
        Type.Record(
          Type.String(),
          Type.Object({
            value: Type.Optional(Type.Union([Type.String({ maxLength: 3000 }), Type.Null()])),
            selected_option: Type.Optional(
              Type.Union([Type.Object({ value: Type.String({ maxLength: 200 }) }), Type.Null()]),
            ),
            selected_options: Type.Optional(
              Type.Array(Type.Object({ value: Type.String({ maxLength: 200 }) }), { maxItems: 10 }),
            ),
            selected_date: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Null()])),
          }),
        ),
      ),
    }),
  }),
});

const validateBlockActions = compileOnFirstUse<Static<typeof BlockActions>>(BlockActions);
const validateViewSubmission = compileOnFirstUse<Static<typeof ViewSubmission>>(ViewSubmission);

/** What the interaction request answers, and a note for the clicker alone (an ephemeral message). */
export interface InteractionAnswer {
  readonly body?: Record<string, unknown> | undefined;
  readonly notice?: { readonly channel: string; readonly user: string; readonly text: string } | undefined;
}

export const NOT_APPROVER_TEXT = 'You are not an approver of this stage.';

/** Refusals that mean "not yours to decide" all read the same: who may decide is not disclosed. */
function refusalText(error: unknown): string {
  if (!(error instanceof SignoffError)) throw error;
  if (error.code === 'not_approver' || error.code === 'self_approval' || error.code === 'not_found')
    return NOT_APPROVER_TEXT;
  // Refusals the clicker can act on are told as they are, in the words of every other channel.
  const told: readonly string[] = ['already_decided', 'duplicate_decision', 'too_early', 'invalid_input'];
  if (told.includes(error.code)) return error.message;
  throw error;
}

/**
 * The clicker as signoff knows people: the email Slack holds for the Slack user of our own
 * workspace (see `slackPerson`), spelled the way every other channel spells it. No groups:
 * Slack does not prove them.
 */
async function resolveActor(services: Services, slack: SlackApi, userId: string): Promise<Actor | undefined> {
  let person: string | undefined;
  try {
    person = await slackPerson(slack, userId, services.config.identity);
  } catch (error) {
    throw new SignoffError('upstream_failed', 'Slack could not say who clicked; nothing was decided.', {
      cause: error,
    });
  }
  return person === undefined ? undefined : { id: person, groups: [] };
}

/** Whether this actor may give this verdict now, asked of the one decision rule without writing anything. */
async function checkMayDecide(services: Services, target: SlackTarget, actor: Actor, verdict: Verdict) {
  const approval = await findApproval(services.db, target.approvalId);
  if (!approval) throw new SignoffError('not_found', 'No such approval.');
  const result = decide(
    approval,
    // The reason comes with the modal's submission: a policy that requires one must not stop
    // the modal from opening.
    // A delegate may decide for whom they stand in, as on every channel.
    {
      actor,
      verdict,
      via: 'slack',
      stage: target.stage,
      comment: 'reason to follow',
      delegations: await delegationsTo(services.db, actor.id, services.now()),
    },
    services.now(),
    'dec_preview',
    reviewRules,
  );
  // Missing inputs are what the modal is about to ask for; every other refusal stops it opening.
  if (!result.ok && result.code !== 'invalid_input') throw new SignoffError(result.code, result.message);
}

async function decideFromSlack(
  services: Services,
  target: SlackTarget,
  actor: Actor,
  verdict: Verdict,
  comment: string | null,
  formInputs?: Record<string, string>,
): Promise<void> {
  await decideApproval(services, target.approvalId, {
    actor,
    verdict,
    comment,
    formInputs,
    via: 'slack',
    stage: target.stage,
  });
}

/** The inputs the target's stage asks for, if it asks for any. */
async function stageInputs(services: Services, target: SlackTarget): Promise<InputSchema | undefined> {
  const approval = await findApproval(services.db, target.approvalId);
  const stage = approval?.policy.stages.find((s) => s.name === target.stage);
  return stage?.type === 'human' ? stage.inputs : undefined;
}

type SubmittedValues = Static<typeof ViewSubmission>['view']['state']['values'];

/** The modal's `input.NAME` blocks as form text, whatever element each one is. */
function submittedInputs(values: SubmittedValues): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [block, actions] of Object.entries(values)) {
    if (!block.startsWith('input.')) continue;
    const state = actions.value;
    const text =
      state?.value ??
      state?.selected_option?.value ??
      state?.selected_date ??
      state?.selected_options?.[0]?.value;
    if (typeof text === 'string') inputs[block.slice('input.'.length)] = text;
  }
  return inputs;
}

async function handleBlockActions(
  services: Services,
  slack: SlackApi,
  payload: Static<typeof BlockActions>,
): Promise<InteractionAnswer> {
  const action = payload.actions[0];
  const target = parseSlackTarget(action?.value);
  const isOurs = action?.action_id === SLACK_ACTIONS.approve || action?.action_id === SLACK_ACTIONS.reject;
  if (!action || !target || !isOurs) return {};
  const notify = (text: string): InteractionAnswer =>
    payload.channel ? { notice: { channel: payload.channel.id, user: payload.user.id, text } } : {};
  const actor = await resolveActor(services, slack, payload.user.id);
  if (!actor) return notify(NOT_APPROVER_TEXT);
  const inputs = await stageInputs(services, target);
  try {
    if (action.action_id === SLACK_ACTIONS.approve && !inputs) {
      await decideFromSlack(services, target, actor, 'approve', null);
      return {};
    }
    // The reason (or the inputs) is asked first; only the submission decides. Someone who may
    // not decide gets no form.
    await checkMayDecide(
      services,
      target,
      actor,
      action.action_id === SLACK_ACTIONS.approve ? 'approve' : 'reject',
    );
  } catch (error) {
    return notify(refusalText(error));
  }
  const approval = await findApproval(services.db, target.approvalId);
  if (!payload.trigger_id || !approval) return {};
  await slack.openView(
    payload.trigger_id,
    action.action_id === SLACK_ACTIONS.approve && inputs
      ? renderApproveModal(target, approval.title, inputs)
      : renderRejectModal(target, approval.title),
  );
  return {};
}

/** The approve modal's submission: the inputs are checked by field, then the one decision path decides. */
async function submitApproval(
  services: Services,
  slack: SlackApi,
  payload: Static<typeof ViewSubmission>,
  target: SlackTarget,
): Promise<InteractionAnswer> {
  const { values } = payload.view.state;
  const formInputs = submittedInputs(values);
  const comment = values.comment?.comment?.value?.trim() || null;
  if (comment && findUnacceptableText(comment))
    return { body: { response_action: 'errors', errors: { comment: 'Write the comment as plain text.' } } };
  // Each problem beside its field, in the words the decision path (and so every channel) uses.
  const schema = await stageInputs(services, target);
  const checked = checkInputs(schema, inputsFromForm(schema, formInputs), 'approve');
  if (!checked.ok)
    return {
      body: {
        response_action: 'errors',
        errors: Object.fromEntries(checked.problems.map((p) => [`input.${p.field}`, p.message])),
      },
    };
  const actor = await resolveActor(services, slack, payload.user.id);
  const refuse = (text: string): InteractionAnswer => ({
    body: { response_action: 'errors', errors: { comment: text } },
  });
  if (!actor) return refuse(NOT_APPROVER_TEXT);
  try {
    await decideFromSlack(services, target, actor, 'approve', comment, formInputs);
  } catch (error) {
    if (error instanceof SignoffError && error.code === 'invalid_input') return refuse(error.message);
    return refuse(refusalText(error));
  }
  return {};
}

async function handleViewSubmission(
  services: Services,
  slack: SlackApi,
  payload: Static<typeof ViewSubmission>,
): Promise<InteractionAnswer> {
  const { view } = payload;
  const target = parseSlackTarget(view.private_metadata);
  if (!target) return {};
  if (view.callback_id === SLACK_ACTIONS.approveView) return submitApproval(services, slack, payload, target);
  if (view.callback_id !== SLACK_ACTIONS.rejectView) return {};
  const refuse = (text: string): InteractionAnswer => ({
    body: { response_action: 'errors', errors: { reason: text } },
  });
  const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
  if (!reason) return refuse('Say why you reject it.');
  if (reason.length > 2000) return refuse('At most 2000 characters.');
  // The same text rules as a comment given through the API (control characters, lone surrogates).
  if (findUnacceptableText(reason)) return refuse('Write the reason as plain text.');
  const actor = await resolveActor(services, slack, payload.user.id);
  if (!actor) return refuse(NOT_APPROVER_TEXT);
  try {
    await decideFromSlack(services, target, actor, 'reject', reason);
  } catch (error) {
    return refuse(refusalText(error));
  }
  return {};
}

/**
 * Acts on one verified interaction: a button (Approve decides, Reject opens the reason
 * modal) or the modal's submission. Every verdict goes through the one decision path with
 * the clicker's identity; anyone who may not decide is told so, and nothing changes.
 */
export async function handleSlackInteraction(
  services: Services,
  slack: SlackApi,
  payload: unknown,
): Promise<InteractionAnswer> {
  if (validateBlockActions(payload)) return handleBlockActions(services, slack, payload);
  if (validateViewSubmission(payload)) return handleViewSubmission(services, slack, payload);
  const type = (payload as { type?: unknown } | null)?.type;
  if (type === 'block_actions' || type === 'view_submission')
    throw new SignoffError('invalid_input', `This ${type} payload is not one signoff understands.`);
  // Other interactions (shortcuts, closed modals) are not signoff's: acknowledged, ignored.
  return {};
}
