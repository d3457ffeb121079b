import type { Logger } from 'pino';
import type { ApprovalChanges, WaitCounter } from './changes.js';
import type { Config } from './config.js';
import type { Egress } from './egress/egress.js';
import type { NewId } from './ids.js';
import type { Observer } from './observer.js';
import type { PolicyCatalog } from './policies/catalog.js';
import type { Mailer, SlackApi } from './ports.js';
import type { Db } from './store/database.js';

/** Everything the application needs, wired once at start and passed down explicitly. */
export interface Services {
  readonly config: Config;
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly newId: NewId;
  readonly changes: ApprovalChanges;
  /** The waits (signoff wait, long polls) this process holds, so pages can say what deciding answers. */
  readonly waits: WaitCounter;
  readonly mailer: Mailer;
  /** Slack's Web API, when SIGNOFF_SLACK_BOT_TOKEN is set. */
  readonly slack: SlackApi | undefined;
  /** Outbound HTTP to URLs requesters chose (webhooks), only where SIGNOFF_WEBHOOK_ALLOW lets it go. */
  readonly egress: Egress;
  /** Named policies from SIGNOFF_POLICIES. */
  readonly policies: PolicyCatalog;
  /** Told what operators count (metrics); it never changes what happens. */
  readonly observer: Observer;
  /** Nudges the outbox dispatcher after a commit so delivery does not wait for the next poll. */
  readonly wakeDispatcher: () => void;
}
