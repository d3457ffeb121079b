export { type AskOptions, askAboutToolCall, toolCallTitle, type Verdict } from './ask.js';
export { actionHash, canonicalize } from './canonical-json.js';
export {
  type CallOptions,
  createSignoff,
  SERVER_WAIT_CAP_MS,
  type SignoffClient,
  type SignoffOptions,
  type WaitOptions,
} from './client.js';
export {
  type NotApprovedCode,
  NotApprovedError,
  SignoffApiError,
  SignoffError,
  type SignoffErrorCode,
  type TransportErrorCode,
} from './errors.js';
export { frozenJsonCopy } from './json-copy.js';
export { type GatedCallOptions, type RequireApprovalOptions, requireApproval } from './require-approval.js';
export type {
  ApiErrorCode,
  Approval,
  ApprovalRequest,
  ApprovalStatus,
  Decision,
  JsonObject,
  JsonValue,
  PolicyCheck,
} from './types.js';
