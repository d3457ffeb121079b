import type { CreateApprovalRequest } from './request.js';

/**
 * The fields of a create request that loosen the gate it asks for, each as a JSON pointer
 * with why: stages that decide without people (rules, an AI), a stage that approves when
 * nobody decides in time, self-approval, and skipping notification. Empty when none does.
 * Such a gate must come from a named policy on the server, or from a credential trusted
 * with inline policies.
 */
export function looseningFields(request: CreateApprovalRequest): { path: string; why: string }[] {
  const found: { path: string; why: string }[] = [];
  if (request.allowSelfApproval === true)
    found.push({ path: '/allowSelfApproval', why: 'lets the requester approve their own request' });
  if (request.notify !== undefined && request.notify.length === 0)
    found.push({ path: '/notify', why: 'tells no approver about the request' });
  for (const [index, stage] of (request.stages ?? []).entries()) {
    if (stage.type === 'rule')
      found.push({ path: `/stages/${index}`, why: 'a rule stage can decide without people' });
    else if (stage.type === 'ai')
      found.push({ path: `/stages/${index}`, why: 'an AI stage can decide without people' });
    else if (stage.onTimeout === 'approve')
      found.push({ path: `/stages/${index}/onTimeout`, why: 'approves when nobody decides in time' });
  }
  return found;
}
