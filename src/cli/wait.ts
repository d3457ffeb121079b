import { describeStages, formatUtc, stageSentence } from '../core/approval-facts.js';
import { formatDuration } from '../core/duration.js';
import { describeNotificationFailure } from '../core/notification-failure.js';
import type { ApprovalView } from '../core/view.js';
import { ApiError, type Client } from './client.js';

export const EXIT = { approved: 0, rejected: 1, expired: 2, cancelled: 2, error: 3 } as const;

const POLL_SECONDS = 10;

/**
 * Where the approval stands, in the words the page and the mail use: every stage still to
 * come with its gates (who approved, who is still asked), who decided, and the deadline with
 * its zone. It changes only when someone decides.
 */
export function progress(approval: ApprovalView): string {
  const open = describeStages(approval.stages, approval.status !== 'pending').filter(
    (_, i) => approval.stages[i]?.status === 'pending' || approval.stages[i]?.status === 'waiting',
  );
  const decided = approval.decisions.map((d) => `${d.actor} ${d.verdict}d`).join(', ') || 'nobody yet';
  return [
    ...open.map((stage) => `  ${stageSentence(stage)}`),
    `  decided: ${decided} · decide by ${formatUtc(new Date(approval.expiresAt))}`,
  ].join('\n');
}

/**
 * An approval approved while its policy's change window was shut may not go ahead before the
 * window opens: wait for it (false when that is later than we may wait).
 */
async function heldByWindow(
  approval: ApprovalView,
  remainingMs: number,
  log: (line: string) => void,
): Promise<boolean> {
  const held = approval.resumesAt ? Date.parse(approval.resumesAt) - Date.now() : 0;
  if (approval.status !== 'approved' || held <= 0) return true;
  if (held > remainingMs) {
    log(`its change window opens ${approval.resumesAt}, later than this wait may last; giving up (exit 3)`);
    return false;
  }
  log(`its policy's change window holds it until ${approval.resumesAt}; waiting ${formatDuration(held)}`);
  await new Promise((resolve) => setTimeout(resolve, held));
  return true;
}

/** The exit code of a decided approval, once its change window (if it holds it) has opened. */
async function ended(
  approval: ApprovalView,
  remainingMs: number,
  log: (line: string) => void,
): Promise<{ code: number; approval: ApprovalView }> {
  if (!(await heldByWindow(approval, remainingMs, log))) return { code: EXIT.error, approval };
  return { code: EXIT[approval.status as keyof typeof EXIT], approval };
}

/**
 * Long-polls until the approval is decided, showing elapsed time and who has decided.
 * Returns the exit code: 0 approved, 1 rejected, 2 expired or cancelled, 3 error.
 */
export async function waitForApproval(
  client: Client,
  id: string,
  options: { timeoutMs: number; log: (line: string) => void; now?: () => number },
): Promise<{ code: number; approval?: ApprovalView }> {
  const now = options.now ?? Date.now;
  const started = now();
  let lastProgress = '';
  let lastPrinted = 0;
  let failures = 0;
  let polls = 0;
  const reported = new Set<string>();
  /** Prints each notification given up on once, as soon as an answer shows it. */
  const reportFailures = (approval: ApprovalView) => {
    for (const failure of approval.notificationFailures ?? []) {
      const key = JSON.stringify([failure.channel, failure.to, failure.at]);
      if (reported.has(key)) continue;
      reported.add(key);
      options.log(`warning: ${describeNotificationFailure(failure)}`);
    }
  };
  for (;;) {
    const elapsed = now() - started;
    const remaining = options.timeoutMs - elapsed;
    if (remaining <= 0) {
      options.log(
        `still pending after ${formatDuration(options.timeoutMs)}; giving up (the approval stays open)`,
      );
      return { code: EXIT.error };
    }
    // The first call answers at once, so the waiting line shows before anyone decides.
    const seconds = polls++ === 0 ? 0 : Math.max(1, Math.min(POLL_SECONDS, Math.ceil(remaining / 1000)));
    try {
      const approval = await client.request<ApprovalView>(
        'GET',
        `/v1/approvals/${encodeURIComponent(id)}/wait?timeout=${seconds}s`,
        {
          timeoutMs: (seconds + 15) * 1000,
        },
      );
      failures = 0;
      if (approval.status !== 'pending') {
        reportFailures(approval);
        options.log(
          `${approval.status} after ${formatDuration(now() - started)}${approval.reason ? ` · ${approval.reason}` : ''}`,
        );
        return ended(approval, remaining, options.log);
      }
      const current = progress(approval);
      if (polls === 1) {
        options.log(`waiting for ${id} (${approval.title})\n${current}`);
        lastPrinted = now();
        lastProgress = current;
      } else if (current !== lastProgress || now() - lastPrinted >= 30_000) {
        options.log(`waiting ${formatDuration(now() - started)}\n${current}`);
        lastPrinted = now();
        lastProgress = current;
      }
      reportFailures(approval);
    } catch (error) {
      // A refused request will not succeed later; a network error or 5xx may.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        options.log(`error: ${error.message} (${error.code})`);
        return { code: EXIT.error };
      }
      failures++;
      const pause = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
      options.log(
        `${error instanceof Error ? error.message : String(error)}; retrying in ${formatDuration(pause)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
