import type { DocumentIssue } from '../config-file.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { type IdentityRules, namesOnePerson, normalizeApprover } from '../core/identity.js';
import { checkInputValue, type InputField, type InputSchema } from '../core/inputs.js';
import type { Gate, HumanStage, Stage } from '../core/model.js';
import { checkCondition } from '../reviewers/rule.js';
import type { StageSpec } from './spec.js';

type Path = (string | number)[];

export interface CompileOptions {
  /** Whether an AI endpoint is configured (SIGNOFF_AI_URL). */
  readonly aiConfigured: boolean;
  /** How approvers' addresses are normalised (plus-addressing); exact unless configured. */
  readonly identity?: IdentityRules | undefined;
  /** Whether Slack is configured (SIGNOFF_SLACK_BOT_TOKEN); undefined when it does not matter here. */
  readonly slackConfigured?: boolean | undefined;
  /**
   * Whether an input may carry a `pattern`: only in the operator's policies file. A regular
   * expression from a request could be one that takes the server minutes to run.
   */
  readonly trustedPatterns?: boolean | undefined;
}

const MIN_REMIND_EVERY_MS = 5 * 60 * 1000;

/** A duration field in milliseconds, or an issue at its path. */
function durationField(
  value: string | number | undefined,
  path: Path,
  issues: DocumentIssue[],
  minMs = 1000,
): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < minMs) {
    issues.push({
      path,
      message: `must be a duration of at least ${formatDuration(minMs)}, such as 90s, 15m, 1h or 7d`,
    });
    return undefined;
  }
  return ms;
}

function compileGates(
  spec: Extract<StageSpec, { type: 'human' }>,
  path: Path,
  options: CompileOptions,
  issues: DocumentIssue[],
): Gate[] {
  return spec.gates.map((gate, index) => {
    const approvers = [...new Set(gate.approvers.map((a) => normalizeApprover(a, options.identity)))];
    const required = gate.required ?? 1;
    if (approvers.every(namesOnePerson) && required > approvers.length)
      issues.push({
        path: [...path, 'gates', index, 'required'],
        message: `required (${required}) is more than the number of approvers (${approvers.length})`,
      });
    return { name: gate.name, approvers, required };
  });
}

const GROUP_PREFIX = 'group:';

/**
 * Where the stage's Slack messages go: its channel, and the channel named for each
 * `group:NAME` among its approvers. Only notification: it adds no approver.
 */
function compileSlack(
  spec: Extract<StageSpec, { type: 'human' }>,
  path: Path,
  options: CompileOptions,
  issues: DocumentIssue[],
): HumanStage['slack'] {
  const slack = spec.slack;
  if (!slack) return undefined;
  if (options.slackConfigured === false)
    issues.push({
      path: [...path, 'slack'],
      message: 'Slack is not configured: set SIGNOFF_SLACK_BOT_TOKEN and SIGNOFF_SLACK_SIGNING_SECRET',
    });
  const entries = [...spec.gates.flatMap((g) => g.approvers), ...(spec.escalateTo ?? [])];
  const groups = new Set(
    entries.filter((a) => a.startsWith(GROUP_PREFIX)).map((a) => a.slice(GROUP_PREFIX.length)),
  );
  const channels = slack.channel ? [slack.channel] : [];
  for (const [group, channel] of Object.entries(slack.groups ?? {})) {
    if (!groups.has(group))
      issues.push({
        path: [...path, 'slack', 'groups', group],
        message: `no approver of this stage is group:${group}`,
      });
    channels.push(channel);
  }
  return { channels: [...new Set(channels)], directMessages: slack.directMessages ?? false };
}

const TEXT_ONLY = ['enum', 'pattern', 'format', 'maxLength'] as const;
const NUMBER_ONLY = ['minimum', 'maximum'] as const;

/** One input field: each keyword fits its type, the pattern compiles, the default fits. */
function checkInputField(name: string, field: InputField, at: Path, issues: DocumentIssue[]): void {
  const numeric = field.type === 'number' || field.type === 'integer';
  for (const keyword of TEXT_ONLY)
    if (field[keyword] !== undefined && field.type !== 'string')
      issues.push({ path: [...at, keyword], message: `only a string input takes ${keyword}` });
  for (const keyword of NUMBER_ONLY)
    if (field[keyword] !== undefined && !numeric)
      issues.push({ path: [...at, keyword], message: `only a number input takes ${keyword}` });
  if (field.pattern !== undefined && !compiles(field.pattern))
    issues.push({ path: [...at, 'pattern'], message: 'is not a regular expression' });
  const problem = field.default === undefined ? null : checkInputValue(name, field, field.default);
  if (problem) issues.push({ path: [...at, 'default'], message: `does not fit: ${problem}` });
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** The stage's inputs, with what the schema alone cannot say checked: each keyword fits its type. */
function compileInputs(
  spec: Extract<StageSpec, { type: 'human' }>['inputs'],
  path: Path,
  options: CompileOptions,
  issues: DocumentIssue[],
): InputSchema | undefined {
  if (!spec) return undefined;
  for (const [name, field] of Object.entries(spec.properties)) {
    const at = [...path, 'properties', name];
    if (field.pattern !== undefined && !options.trustedPatterns) {
      issues.push({
        path: [...at, 'pattern'],
        message: 'is allowed only in a named policy (the policies file)',
      });
      continue;
    }
    checkInputField(name, field, at, issues);
  }
  for (const [index, name] of (spec.required ?? []).entries())
    if (!Object.hasOwn(spec.properties, name))
      issues.push({ path: [...path, 'required', index], message: `names no input of properties: ${name}` });
  return { properties: spec.properties, required: spec.required };
}

function compileHuman(
  spec: Extract<StageSpec, { type: 'human' }>,
  name: string,
  path: Path,
  options: CompileOptions,
  issues: DocumentIssue[],
) {
  const stage: HumanStage = {
    name,
    type: 'human',
    gates: compileGates(spec, path, options, issues),
    timeoutMs: durationField(spec.timeout, [...path, 'timeout'], issues),
    onTimeout: spec.onTimeout,
    remindAfterMs: durationField(spec.remindAfter, [...path, 'remindAfter'], issues),
    remindEveryMs: durationField(spec.remindEvery, [...path, 'remindEvery'], issues, MIN_REMIND_EVERY_MS),
    escalateAfterMs: durationField(spec.escalateAfter, [...path, 'escalateAfter'], issues),
    escalateTo: spec.escalateTo?.map((a) => normalizeApprover(a, options.identity)),
    slack: compileSlack(spec, path, options, issues),
    inputs: compileInputs(spec.inputs, [...path, 'inputs'], options, issues),
  };
  if (spec.remindEvery !== undefined && spec.remindAfter === undefined)
    issues.push({
      path: [...path, 'remindEvery'],
      message: 'needs remindAfter (when the first reminder goes out)',
    });
  if ((spec.escalateAfter === undefined) !== (spec.escalateTo === undefined))
    issues.push({
      path: [...path, spec.escalateAfter === undefined ? 'escalateTo' : 'escalateAfter'],
      message: 'escalateAfter and escalateTo go together',
    });
  if (spec.onTimeout !== undefined && spec.timeout === undefined)
    issues.push({ path: [...path, 'onTimeout'], message: 'needs timeout (how long the stage may wait)' });
  return stage;
}

function compileStage(
  spec: StageSpec,
  name: string,
  path: Path,
  options: CompileOptions,
  issues: DocumentIssue[],
): Stage {
  if (spec.type === 'human') return compileHuman(spec, name, path, options, issues);
  if (spec.type === 'rule') {
    for (const [index, rule] of spec.rules.entries()) {
      const problem = checkCondition(rule.when);
      if (problem) issues.push({ path: [...path, 'rules', index, 'when'], message: problem });
    }
    return { name, type: 'rule', rules: spec.rules };
  }
  if (!options.aiConfigured)
    issues.push({
      path: [...path, 'type'],
      message: 'ai stages need an AI endpoint: set SIGNOFF_AI_URL and SIGNOFF_AI_MODEL',
    });
  return {
    name,
    type: 'ai',
    mode: spec.mode ?? 'advise',
    instructions: spec.instructions ?? null,
    minConfidence: spec.minConfidence ?? 0.8,
    canApprove: spec.canApprove ?? true,
  };
}

/**
 * Turns stages as written into the policy model, with defaults filled in, and lists every
 * mistake the schema cannot see (duplicate names, bad expressions, durations) at its path.
 */
export function compileStages(
  specs: readonly StageSpec[],
  path: Path,
  options: CompileOptions,
): { stages: Stage[]; issues: DocumentIssue[] } {
  const issues: DocumentIssue[] = [];
  const seen = new Set<string>();
  const stages = specs.map((spec, index) => {
    const name = spec.name ?? (seen.has(spec.type) ? `${spec.type}-${index + 1}` : spec.type);
    if (seen.has(name))
      issues.push({ path: [...path, index, 'name'], message: `another stage is named "${name}"` });
    seen.add(name);
    return compileStage(spec, name, [...path, index], options, issues);
  });
  const last = stages.at(-1);
  if (last?.type === 'ai' && last.mode !== 'decide')
    issues.push({
      path: [...path, stages.length - 1, 'mode'],
      message: `with mode ${last.mode} this stage only records its verdict: add a stage after it that decides`,
    });
  return { stages, issues };
}
