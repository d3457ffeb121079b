import { isInvolved } from '../../approvals/inbox.js';
import { findApprovalById } from '../../approvals/reads.js';
import type { Actor } from '../../core/model.js';
import type { Services } from '../../services.js';

/** Tells open inboxes of the changes that concern their person. */
export interface InboxFeed {
  /** Calls `send` whenever an approval `person` is part of changes, new ones included. */
  follow(person: Actor, send: () => void): () => void;
}

/**
 * One listener on every approval change for all open inboxes: each change is read once and
 * told to the inboxes of the people it concerns (asked, asking, or having decided), so a new
 * approval appears and a decided one moves without a reload. A resync tells everyone.
 */
export function createInboxFeed(services: Services): InboxFeed {
  const followers = new Set<{ person: Actor; send: () => void }>();
  let stop: (() => void) | undefined;

  async function tell(approvalId: string | null) {
    if (approvalId === null) {
      for (const follower of followers) follower.send();
      return;
    }
    const approval = await findApprovalById(services, approvalId);
    if (!approval) return;
    for (const follower of followers) if (isInvolved(approval, follower.person)) follower.send();
  }

  return {
    follow(person, send) {
      const follower = { person, send };
      followers.add(follower);
      stop ??= services.changes.subscribeAll((approvalId) => {
        tell(approvalId).catch((error: unknown) =>
          services.logger.warn({ err: error, approvalId }, 'could not tell open inboxes of a change'),
        );
      });
      return () => {
        followers.delete(follower);
        if (followers.size === 0) {
          stop?.();
          stop = undefined;
        }
      };
    },
  };
}
