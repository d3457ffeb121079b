import { stageLines } from '../core/approval-facts.js';
import type { MailMessage } from '../ports.js';
import { type ApprovalMailInput, approvalMailFacts, type MailFacts } from './email-facts.js';
import { renderMailHtml } from './email-html.js';

export type { ApprovalMailInput } from './email-facts.js';

function renderText(facts: MailFacts): string {
  const paragraphs = [
    `${facts.requester} asks for your approval:\n\n${facts.title}`,
    facts.description,
    facts.link ? `Link: ${facts.link}` : null,
    facts.action ? `Action (a decision is for exactly this one):\n${facts.action}` : null,
    facts.metadata ? `Details:\n${facts.metadata}` : null,
    facts.advice.length > 0 ? facts.advice.join('\n') : null,
    [
      `Decide by: ${facts.deadline}`,
      `You are asked in stage ${facts.stage}.${facts.yourGates ? ` ${facts.yourGates}` : ''}`,
      ...facts.stages.flatMap(stageLines),
    ].join('\n'),
    [`Approve: ${facts.approveUrl}`, `Reject: ${facts.rejectUrl}`, `Review first: ${facts.reviewUrl}`].join(
      '\n',
    ),
    `${facts.linkLifetime} Opening it changes nothing: you confirm on the page it opens.`,
    `-- \nSent by signoff at ${facts.instanceName}. You got this mail because ${facts.reason}.`,
  ];
  return paragraphs.filter(Boolean).join('\n\n');
}

/** The mail that asks one approver for a decision, with their one-time link. */
export function renderApprovalMail(input: ApprovalMailInput): MailMessage {
  const facts = approvalMailFacts(input);
  return { to: input.to, subject: facts.subject, text: renderText(facts), html: renderMailHtml(facts) };
}
