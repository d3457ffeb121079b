import { SUBJECT_PREFIX } from '../core/identity.js';
import type { CreateApprovalRequest } from './request.js';

type Loosening = { path: string; why: string };

/** Approver entries that name a token subject: a machine can hold one, so no person need decide. */
function subjectApprovers(entries: readonly string[] | undefined, path: string): Loosening[] {
  return (entries ?? []).flatMap((entry, index) =>
    entry.startsWith(SUBJECT_PREFIX)
      ? [{ path: `${path}/${index}`, why: 'a token subject (which a machine can hold) decides' }]
      : [],
  );
}

/**
 * The fields of a create request that loosen the gate it asks for, each as a JSON pointer
 * with why: stages that decide without people (rules, an AI), a stage that approves when
 * nobody decides in time, self-approval, skipping notification, approvers that a machine
 * can be, and a callback that resumes a workflow with signoff's own AWS credentials (whose
 * token anyone with read access to that workflow can see). Empty when none does. Such a gate
 * must come from a named policy or route on the server, or from a credential trusted with
 * inline policies.
 */
export function looseningFields(
  request: CreateApprovalRequest,
  options: { workflowCallbackTrusted?: boolean | undefined } = {},
): Loosening[] {
  const found: Loosening[] = [];
  if (request.allowSelfApproval === true)
    found.push({ path: '/allowSelfApproval', why: 'lets the requester approve their own request' });
  if (request.notify !== undefined && request.notify.length === 0)
    found.push({ path: '/notify', why: 'tells no approver about the request' });
  if (request.callback && request.callback.type !== 'webhook' && !options.workflowCallbackTrusted)
    found.push({ path: '/callback', why: "resumes a workflow with signoff's own AWS credentials" });
  found.push(...subjectApprovers(request.approvers, '/approvers'));
  for (const [index, stage] of (request.stages ?? []).entries()) {
    if (stage.type === 'rule')
      found.push({ path: `/stages/${index}`, why: 'a rule stage can decide without people' });
    else if (stage.type === 'ai')
      found.push({ path: `/stages/${index}`, why: 'an AI stage can decide without people' });
    else {
      if (stage.onTimeout === 'approve')
        found.push({ path: `/stages/${index}/onTimeout`, why: 'approves when nobody decides in time' });
      for (const [g, gate] of stage.gates.entries())
        found.push(...subjectApprovers(gate.approvers, `/stages/${index}/gates/${g}/approvers`));
      found.push(...subjectApprovers(stage.escalateTo, `/stages/${index}/escalateTo`));
    }
  }
  return found;
}
