import type { Selectable } from 'kysely';

/** Times are stored as epoch milliseconds (bigint) and JSON as text, so both dialects agree. */
export interface ApprovalsTable {
  id: string;
  status: string;
  title: string;
  description: string | null;
  link: string | null;
  metadata: string;
  requester: string | null;
  policy: string;
  callback: string | null;
  notify: string;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  reason: string | null;
  version: number;
  idempotency_owner: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  supersede_key: string | null;
  /** JSON: stage results and escalations; null before any. */
  progress: string | null;
  /** SHA-256 of the owner scope (the creating credential or its restriction); null before owners. */
  owner: string | null;
  /** The token that asked, when one did. */
  requester_issuer: string | null;
  requester_subject: string | null;
  /** The action an agent asks to take, as canonical JSON; null when none was named. */
  action: string | null;
  /** `sha256:HEX` of `action`. */
  action_hash: string | null;
  /** The version of the policy it was created under (migration 0016); null before. */
  policy_version: string | null;
}

export interface DecisionsTable {
  id: string;
  approval_id: string;
  stage: string;
  actor: string;
  groups: string;
  verdict: string;
  comment: string | null;
  via: string;
  ip: string | null;
  at: number;
  issuer: string | null;
  subject: string | null;
  inputs: string | null;
  on_behalf_of: string | null;
}

export interface LinksTable {
  token_hash: string;
  approval_id: string;
  stage: string;
  approver: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  renewed_at: number | null;
  opened_at: number | null;
}

export interface OutboxTable {
  id: string;
  approval_id: string | null;
  kind: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface AuditEventsTable {
  id: string;
  approval_id: string;
  type: string;
  actor: string | null;
  data: string;
  at: number;
  /** Place in the approval's chain, from 1 (migration 0007). */
  seq: number;
  prev_hash: string | null;
  hash: string;
}

export interface ApiKeysTable {
  id: string;
  key_hash: string;
  name: string;
  actor: string | null;
  permissions: string;
  created_at: number;
  revoked_at: number | null;
}

export interface AiAgreementTable {
  policy: string;
  stage: string;
  mode: string;
  agreed: number;
  disagreed: number;
  escalated: number;
}

/** A mailed one-time sign-in link, by the SHA-256 of its token. */
export interface SignInLinksTable {
  token_hash: string;
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A signed-in browser, by the SHA-256 of its cookie; who it is and what it may do, as JSON. */
export interface WebSessionsTable {
  id_hash: string;
  actor: string;
  groups: string;
  grants: string;
  issuer: string | null;
  subject: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** Whether a migration breaks older code (1) or only adds (0); see migrations/index.ts. */
export interface MigrationFlagsTable {
  name: string;
  breaking: number;
}

/** A Slack message posted for one stage of an approval. */
export interface SlackMessagesTable {
  id: string;
  approval_id: string;
  stage: string;
  recipient: string;
  channel: string;
  ts: string;
  posted_at: number;
}

/** The hash of an interaction request's signature, once acted on. */
export interface SlackRequestsTable {
  signature: string;
  seen_at: number;
}

/** A delegation while away: from `starts_at` to `ends_at`, `delegate` decides for `delegator`. */
export interface DelegationsTable {
  id: string;
  delegator: string;
  delegate: string;
  starts_at: number;
  ends_at: number;
  reason: string | null;
  created_at: number;
  ended_at: number | null;
}

/** The after-review of a break-glass: open until someone it skipped confirms or flags it. */
export interface BreakGlassReviewsTable {
  approval_id: string;
  broken_by: string;
  reason: string;
  broken_at: number;
  /** JSON array of the approver entries the skipped gates asked. */
  reviewers: string;
  due_at: number;
  /** open, confirmed or flagged. */
  status: string;
  reviewed_by: string | null;
  reviewed_at: number | null;
  comment: string | null;
}

/** An approver's standing grant: the same action again, a bounded number of times. */
export interface StandingGrantsTable {
  id: string;
  approval_id: string;
  granter: string;
  /** JSON array of the granter's groups when granting. */
  granter_groups: string;
  granter_issuer: string | null;
  granter_subject: string | null;
  requester: string | null;
  owner: string;
  policy_hash: string;
  stage: string;
  match: string;
  action_hash: string | null;
  tool: string | null;
  max_uses: number;
  uses: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
}

/** One entry of the policy change log (src/core/policy-version.ts). */
export interface PolicyVersionsTable {
  source: string;
  name: string;
  seq: number;
  version: string | null;
  /** The canonical JSON the version is the hash of; null with the version. */
  content: string | null;
  first_seen_at: number;
  prev_hash: string | null;
  hash: string;
}

export interface Database {
  approvals: ApprovalsTable;
  decisions: DecisionsTable;
  links: LinksTable;
  outbox: OutboxTable;
  audit_events: AuditEventsTable;
  api_keys: ApiKeysTable;
  ai_agreement: AiAgreementTable;
  migration_flags: MigrationFlagsTable;
  slack_messages: SlackMessagesTable;
  slack_requests: SlackRequestsTable;
  sign_in_links: SignInLinksTable;
  web_sessions: WebSessionsTable;
  standing_grants: StandingGrantsTable;
  policy_versions: PolicyVersionsTable;
  break_glass_reviews: BreakGlassReviewsTable;
  delegations: DelegationsTable;
}

export type ApprovalRow = Selectable<ApprovalsTable>;
export type DecisionRow = Selectable<DecisionsTable>;
export type LinkRow = Selectable<LinksTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type StandingGrantRow = Selectable<StandingGrantsTable>;
export type BreakGlassReviewRow = Selectable<BreakGlassReviewsTable>;

export type SlackMessageRow = Selectable<SlackMessagesTable>;
export type SignInLinkRow = Selectable<SignInLinksTable>;
export type WebSessionRow = Selectable<WebSessionsTable>;
