import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { type CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findApiKeyByHash } from '../../src/store/api-keys.js';
import { listApprovalsCreatedBetween } from '../../src/store/approval-period.js';
import {
  claimDueApprovalId,
  findApproval,
  findApprovalByIdempotencyKey,
  findPendingIdsByKey,
  listApprovals,
} from '../../src/store/approvals.js';
import { findChainEnd, listAudit, listAuditOfApprovals, listAuditSince } from '../../src/store/audit.js';
import type { Db } from '../../src/store/database.js';
import { findActiveDelegations } from '../../src/store/delegations.js';
import { findLinkByHash, spendLink } from '../../src/store/links.js';
import { listDeadLetteredNotifications } from '../../src/store/notification-failures.js';
import { claimDueOutbox } from '../../src/store/outbox.js';
import {
  deleteDeliveredOutbox,
  deleteExpiredLinks,
  deleteExpiredWebSessions,
  deleteUsedLinks,
} from '../../src/store/retention.js';
import type { Database } from '../../src/store/schema.js';
import { findSignInLink, findWebSession } from '../../src/store/web.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
let sqlite: SQLite.Database;
let traced: Db;
const captured: CompiledQuery[] = [];

beforeAll(async () => {
  h = await startHarness({}, { workers: false });
  sqlite = new SQLite(join(h.dir, 'signoff.db'));
  // A second handle on the same file that records the SQL the store functions really run.
  traced = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (event) => {
      captured.push(event.query);
    },
  });
});
afterAll(async () => {
  await traced.destroy();
  await h.close();
});

/** Runs a store function and returns the query plan of every statement it executed. */
async function plansOf(run: (db: Db) => Promise<unknown>): Promise<string[]> {
  captured.length = 0;
  await run(traced);
  return captured.map((query) =>
    sqlite
      .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .all(...(query.parameters as unknown[]))
      .map((row) => (row as { detail: string }).detail)
      .join('\n'),
  );
}

// Every lookup on a hot path must be an index search: cost must not grow with stored approvals.
describe('query plans (SQLite)', () => {
  it('a link click is one indexed read by token hash', async () => {
    const plans = await plansOf((db) => findLinkByHash(db, 'a'.repeat(64)));
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatch(/SEARCH links USING PRIMARY KEY \(token_hash=\?\)/);
    expect(plans[0]).not.toMatch(/SCAN/);
  });

  it('spending a link uses the same index', async () => {
    const plans = await plansOf((db) => spendLink(db, 'a'.repeat(64), new Date()));
    expect(plans[0]).toMatch(/SEARCH links USING PRIMARY KEY \(token_hash=\?\)/);
  });

  it('API keys, idempotency keys, approvals, decisions and audit are read by index', async () => {
    const plans = [
      ...(await plansOf((db) => findApiKeyByHash(db, 'x'))),
      ...(await plansOf((db) => findApprovalByIdempotencyKey(db, 'key_1', 'k'))),
      ...(await plansOf((db) => findApproval(db, 'apr_1'))),
      ...(await plansOf((db) => listAudit(db, 'apr_1'))),
      // Every approval view reads its notifications given up on; a page of 20 in one query.
      ...(await plansOf((db) => listDeadLetteredNotifications(db, ['apr_1', 'apr_2']))),
    ];
    expect(plans.length).toBeGreaterThanOrEqual(4);
    for (const detail of plans) {
      expect(detail).toMatch(/SEARCH \w+ USING ((COVERING )?INDEX|PRIMARY KEY)/);
      expect(detail).not.toMatch(/SCAN/);
    }
  });

  it("an approval's notifications given up on are read in its chain's order, with no sort", async () => {
    const plans = [
      ...(await plansOf((db) => listDeadLetteredNotifications(db, ['apr_1']))),
      ...(await plansOf((db) => listDeadLetteredNotifications(db, ['apr_1', 'apr_2']))),
    ];
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan).toMatch(/SEARCH audit_events USING PRIMARY KEY \(approval_id=\?\)/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });

  it("appending to an approval's audit chain finds its last event by index, with no sort", async () => {
    const [end] = await plansOf((db) => findChainEnd(db, 'apr_1'));
    expect(end).toMatch(/SEARCH audit_events USING PRIMARY KEY \(approval_id=\?\)/);
    expect(end).not.toMatch(/SCAN|TEMP B-TREE/);
  });

  it('superseding, idempotent creates, decisions and the audit export each have the index they read', async () => {
    const [superseded] = await plansOf((db) => findPendingIdsByKey(db, 'owner', 'key'));
    expect(superseded).toMatch(
      /SEARCH approvals USING (COVERING )?INDEX approvals_pending_key \(owner=\? AND supersede_key=\?\)/,
    );
    const [idempotent] = await plansOf((db) => findApprovalByIdempotencyKey(db, 'key_1', 'k'));
    expect(idempotent).toMatch(
      /SEARCH approvals USING INDEX approvals_idempotency \(idempotency_owner=\? AND idempotency_key=\?\)/,
    );
    const created = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() });
    const decisions = await plansOf((db) => findApproval(db, created.json().id));
    expect(decisions.join('\n')).toMatch(/SEARCH decisions USING PRIMARY KEY \(approval_id=\?\)/);
    const [since] = await plansOf((db) => listAuditSince(db, 0, '', 500));
    expect(since).toMatch(/SEARCH audit_events USING INDEX audit_events_id \(id>\?\)/);
    // Every decision asks whose seats its decider fills; asking whom to ask instead, by delegator.
    const [delegate] = await plansOf((db) =>
      findActiveDelegations(db, { delegate: 'c@example.com' }, new Date()),
    );
    expect(delegate).toMatch(
      /SEARCH delegations USING INDEX delegations_delegate \(delegate=\? AND ends_at>\?\)/,
    );
    const [delegator] = await plansOf((db) =>
      findActiveDelegations(db, { delegator: 'd@example.com' }, new Date()),
    );
    expect(delegator).toMatch(
      /SEARCH delegations USING INDEX delegations_delegator \(delegator=\? AND ends_at>\?\)/,
    );
    for (const plan of [superseded, idempotent, ...decisions, since, delegate, delegator])
      expect(plan).not.toMatch(/SCAN/);
  });

  it('the dispatcher and the sweeper find due work by index', async () => {
    const [outbox] = await plansOf((db) =>
      claimDueOutbox(db, new Date(), new Date(), 16, ['email', 'webhook']),
    );
    expect(outbox).toMatch(/SEARCH outbox USING (COVERING )?INDEX outbox_due/);
    const [approvals] = await plansOf((db) => claimDueApprovalId(db, new Date()));
    expect(approvals).toMatch(/SEARCH approvals USING (COVERING )?INDEX approvals_status_expires/);
  });

  it('the inbox reads its lists by index: pending by status, requests by requester, history by decider', async () => {
    const [pending] = await plansOf((db) => listApprovals(db, { status: 'pending', limit: 200 }));
    expect(pending).toMatch(/SEARCH approvals USING (COVERING )?INDEX approvals_status_id \(status=\?\)/);
    const [requested] = await plansOf((db) =>
      listApprovals(db, { requester: 'lead@example.com', titleContains: 'deploy', limit: 25 }),
    );
    expect(requested).toMatch(/SEARCH approvals USING INDEX approvals_requester \(requester=\?\)/);
    const [history] = await plansOf((db) =>
      listApprovals(db, { decidedBy: 'lead@example.com', ended: true, limit: 25 }),
    );
    expect(history).toMatch(/USING (COVERING )?INDEX decisions_actor \(actor=\?\)/);
    for (const plan of [pending, requested, history]) expect(plan).not.toMatch(/SCAN approvals\b(?! USING)/);
  });

  it('the evidence pack reads a period by creation time and its chains by approval, by index', async () => {
    const period = { from: 0, to: Date.now() };
    const [first] = await plansOf((db) => listApprovalsCreatedBetween(db, period, undefined, 500));
    const [next] = await plansOf((db) =>
      listApprovalsCreatedBetween(db, period, { createdAt: 1, id: 'apr_1' }, 500),
    );
    for (const plan of [first, next]) {
      expect(plan).toMatch(
        /SEARCH approvals USING INDEX approvals_created \(created_at>\? AND created_at<\?\)/,
      );
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
    const [chains] = await plansOf((db) => listAuditOfApprovals(db, ['apr_1', 'apr_2']));
    expect(chains).toMatch(/SEARCH audit_events USING PRIMARY KEY \(approval_id=\?\)/);
  });

  it('a web session and a sign-in link are each one read by primary key', async () => {
    const plans = [
      ...(await plansOf((db) => findWebSession(db, 'a'.repeat(64)))),
      ...(await plansOf((db) => findSignInLink(db, 'a'.repeat(64)))),
    ];
    expect(plans).toHaveLength(2);
    for (const plan of plans) expect(plan).toMatch(/SEARCH \w+ USING INDEX sqlite_autoindex_\w+_1/);
  });

  it('pruning finds what the retention lets go by index, not by reading every row', async () => {
    const before = new Date();
    const [outbox] = await plansOf((db) => deleteDeliveredOutbox(db, before, 1000));
    expect(outbox).toMatch(
      /SEARCH outbox USING (COVERING )?INDEX outbox_delivered \(status=\? AND delivered_at<\?\)/,
    );
    const [used] = await plansOf((db) => deleteUsedLinks(db, before, 1000));
    expect(used).toMatch(/SEARCH links USING (COVERING )?INDEX links_used \(used_at>\? AND used_at<\?\)/);
    const [expired] = await plansOf((db) => deleteExpiredLinks(db, before, 1000));
    expect(expired).toMatch(/SEARCH links USING (COVERING )?INDEX links_expires \(expires_at<\?\)/);
    for (const plan of [outbox, used, expired]) expect(plan).not.toMatch(/SCAN (outbox|links)\b/);
    const sessions = await plansOf((db) => deleteExpiredWebSessions(db, before, 1000));
    expect(sessions).toHaveLength(2);
    for (const plan of sessions)
      expect(plan).toMatch(/USING (COVERING )?INDEX \w+_expires \(expires_at<\?\)/);
  });
});
