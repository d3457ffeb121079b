import type { paths } from './openapi.js';

/** The JSON body of a response or request body of the generated document. */
type JsonOf<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** An approval as the API answers it: status, stages, decisions, the action and its hash. */
export type Approval = JsonOf<paths['/v1/approvals/{id}']['get']['responses'][200]>;

/** What asking for an approval takes (`POST /v1/approvals`). */
export type ApprovalRequest = JsonOf<paths['/v1/approvals']['post']['requestBody']>;

/** What the dry run answers: decided by rules at once (and why), or who would be asked. */
export type PolicyCheck = JsonOf<paths['/v1/approvals/dry-run']['post']['responses'][200]>;

export type ApprovalStatus = Approval['status'];

/** One person's (or a rule's) verdict on an approval, with their comment. */
export type Decision = Approval['decisions'][number];

/** The operations this SDK calls. */
type Operation =
  | paths['/v1/approvals']['post']
  | paths['/v1/approvals/{id}']['get']
  | paths['/v1/approvals/{id}/wait']['get']
  | paths['/v1/approvals/{id}/cancel']['post']
  | paths['/v1/approvals/dry-run']['post'];

/** The `error.code` of every answer an operation documents. */
type ErrorCodeOf<Op> = Op extends { responses: infer Responses }
  ? {
      [Status in keyof Responses]: JsonOf<Responses[Status]> extends { error: { code: infer Code } }
        ? Code
        : never;
    }[keyof Responses]
  : never;

/** The stable codes signoff answers these operations with (docs/errors.md explains each). */
export type ApiErrorCode = ErrorCodeOf<Operation>;

/** A JSON value, as an action's arguments hold them. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A JSON object: a tool call's arguments. */
export type JsonObject = { readonly [key: string]: JsonValue };
