import type { Approval } from '../core/model.js';
import { type NotificationFailure, notificationFailureOf } from '../core/notification-failure.js';
import { type ApprovalView, approvalView } from '../core/view.js';
import type { Db } from '../store/database.js';
import { listDeadLetteredNotifications } from '../store/notification-failures.js';

/** The notifications given up on, per approval (one indexed query for them all). */
export async function loadNotificationFailures(
  db: Db,
  approvalIds: readonly string[],
): Promise<Map<string, NotificationFailure[]>> {
  const failures = new Map<string, NotificationFailure[]>();
  for (const event of await listDeadLetteredNotifications(db, approvalIds)) {
    const failure = notificationFailureOf(event.data, event.at);
    if (!failure) continue;
    failures.set(event.approvalId, [...(failures.get(event.approvalId) ?? []), failure]);
  }
  return failures;
}

/** The public views of some approvals, each with the notifications given up on. */
export async function loadApprovalViews(db: Db, approvals: readonly Approval[]): Promise<ApprovalView[]> {
  const failures = await loadNotificationFailures(
    db,
    approvals.map((a) => a.id),
  );
  return approvals.map((approval) => approvalView(approval, failures.get(approval.id) ?? []));
}

/** The public view of one approval, with the notifications given up on. */
export async function loadApprovalView(db: Db, approval: Approval): Promise<ApprovalView> {
  const failures = await loadNotificationFailures(db, [approval.id]);
  return approvalView(approval, failures.get(approval.id) ?? []);
}
