// The ports through which use cases reach the world: declared here, below the adapters that
// implement them (src/channels), so services.ts and the use cases import no adapter.
import type { KnownBlock, View } from '@slack/web-api';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** The port through which signoff sends mail. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** A Slack user as signoff needs one: who they are, if Slack knows their email. */
export interface SlackUser {
  readonly id: string;
  readonly email: string | null;
  /** Deactivated accounts, bots and guests from another organisation never decide. */
  readonly active: boolean;
  /** The workspace the account belongs to. */
  readonly teamId: string | null;
}

/** The few Web API methods signoff uses, through `@slack/web-api`. */
export interface SlackApi {
  postMessage(message: {
    channel: string;
    text: string;
    blocks?: readonly KnownBlock[] | undefined;
    threadTs?: string | undefined;
  }): Promise<{ channel: string; ts: string }>;
  updateMessage(message: {
    channel: string;
    ts: string;
    text: string;
    blocks: readonly KnownBlock[];
  }): Promise<void>;
  postEphemeral(message: { channel: string; user: string; text: string }): Promise<void>;
  /** The user with this email, or undefined when the workspace has none. */
  lookupUserByEmail(email: string): Promise<string | undefined>;
  userInfo(id: string): Promise<SlackUser | undefined>;
  /** The workspace the bot token belongs to (`auth.test`, asked once). */
  ownTeam(): Promise<string>;
  openView(triggerId: string, view: View): Promise<void>;
}
