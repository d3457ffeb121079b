// What must hold after the chaos, checked against the stored rows, the receivers' record and
// the driver's count of its requests. Each check says whether it held and, if not, where not.
import { spawn } from 'node:child_process';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { FINAL } from './plans.mjs';

const BIN = new URL('../../bin/signoff.js', import.meta.url).pathname;
const TERMINAL_EVENTS = {
  'approval.approved': 'approved',
  'approval.rejected': 'rejected',
  'approval.expired': 'expired',
  'approval.cancelled': 'cancelled',
};

/** Reads the stored rows of either backend with one query function. */
export async function openRows(databaseUrl) {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new Sqlite(databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    return { all: async (text) => db.prepare(text).all(), close: async () => db.close() };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return { all: async (text) => (await client.query(text)).rows, close: () => client.end() };
}

/** What the stored rows say about the run's approvals, for the drain wait and the checks. */
export async function readState(rows) {
  const approvals = await rows.all('select id, status from approvals');
  const outbox = await rows.all('select status, count(*) as n from outbox group by status');
  return {
    approvals: new Map(approvals.map((a) => [a.id, a.status])),
    outbox: Object.fromEntries(outbox.map((o) => [o.status, Number(o.n)])),
  };
}

/** Whether a callback told the waiting side of the approval's end, as stored. */
export function callbackTold(receivers, id, status) {
  return receivers.delivered(id, 'approval.decided').some((e) => e.status === status);
}

/** `signoff audit verify` over the whole database: the chains, recomputed from the stored rows. */
export function verifyAudit(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'audit', 'verify'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => resolve({ code, output: output.trim() }));
  });
}

function check(name, problems, figures) {
  return { name, held: problems.length === 0, problems, figures };
}

/** Every invariant, as a list of { name, held, problems, figures }. */
export async function checkInvariants({ plans, rows, receivers, client, instances, audit, mailbox }) {
  const stored = await readState(rows);
  const decisions = await rows.all('select approval_id, stage, actor, verdict, via from decisions');
  const terminal = await rows.all(
    `select approval_id, type from audit_events where type in (${Object.keys(TERMINAL_EVENTS)
      .map((t) => `'${t}'`)
      .join(', ')})`,
  );
  const decisionsOf = new Map();
  for (const d of decisions) decisionsOf.set(d.approval_id, [...(decisionsOf.get(d.approval_id) ?? []), d]);
  const terminalOf = new Map();
  for (const t of terminal) terminalOf.set(t.approval_id, [...(terminalOf.get(t.approval_id) ?? []), t.type]);
  const results = [];
  const created = plans.filter((p) => p.id);

  // 1. Exactly one final state, the one the plan allows.
  {
    const problems = [];
    if (created.length !== plans.length)
      problems.push(`${plans.length - created.length} approvals never created`);
    if (stored.approvals.size !== created.length)
      problems.push(
        `${stored.approvals.size} approvals stored for ${created.length} created (retried creates doubled?)`,
      );
    const byStatus = {};
    for (const plan of created) {
      const status = stored.approvals.get(plan.id);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      const ends = terminalOf.get(plan.id) ?? [];
      if (!FINAL.includes(status)) problems.push(`${plan.id} (#${plan.index}) is ${status}`);
      else if (ends.length !== 1 || TERMINAL_EVENTS[ends[0]] !== status)
        problems.push(
          `${plan.id} is ${status} but its audit trail ends ${ends.length} times: ${ends.join(', ')}`,
        );
      const expected = {
        approve: ['approved'],
        reject: ['rejected'],
        race: ['approved'],
        contend: ['approved', 'rejected'],
        cancel: plan.contended ? ['cancelled', 'approved'] : ['cancelled'],
        expire: ['expired'],
      }[plan.kind];
      if (FINAL.includes(status) && !expected.includes(status))
        problems.push(
          `${plan.id} (#${plan.index}, ${plan.kind}) is ${status}, expected ${expected.join(' or ')}`,
        );
    }
    results.push(
      check(
        'every approval is in exactly one final state',
        problems,
        Object.entries(byStatus)
          .map(([s, n]) => `${n} ${s}`)
          .join(', '),
      ),
    );
  }

  // 2. Nobody counted twice, and the quorum exactly met: no decision after the end.
  {
    const problems = [];
    for (const plan of created) {
      const status = stored.approvals.get(plan.id);
      const list = decisionsOf.get(plan.id) ?? [];
      const people = new Set(list.map((d) => `${d.stage} ${d.actor}`));
      if (people.size !== list.length) problems.push(`${plan.id} has two decisions by one person`);
      const approves = list.filter((d) => d.verdict === 'approve').length;
      const rejects = list.filter((d) => d.verdict === 'reject').length;
      const fits =
        status === 'approved'
          ? approves === plan.required && rejects === 0
          : status === 'rejected'
            ? rejects === 1 && approves < plan.required
            : rejects === 0 && approves < plan.required;
      if (!fits)
        problems.push(
          `${plan.id} is ${status} with ${approves} approve(s), ${rejects} reject(s), quorum ${plan.required}`,
        );
      if ((plan.kind === 'race' || plan.kind === 'contend') && list.length !== 1)
        problems.push(`${plan.id} (${plan.kind}) has ${list.length} decisions`);
    }
    results.push(check('no approval is decided twice', problems, `${decisions.length} decisions stored`));
  }

  // 3. What the driver was told happened, happened: an acknowledged decision survives any crash.
  {
    const problems = [];
    let acknowledged = 0;
    const byChannel = {};
    for (const plan of created) {
      const list = decisionsOf.get(plan.id) ?? [];
      for (const ack of plan.acks ?? []) {
        if (!ack.ok) continue;
        acknowledged++;
        byChannel[ack.via] = (byChannel[ack.via] ?? 0) + 1;
        if (!list.some((d) => d.actor === ack.person && d.verdict === ack.verdict))
          problems.push(
            `${plan.id}: ${ack.via} ${ack.verdict} by ${ack.person} was acknowledged but is not stored`,
          );
      }
      if (plan.cancelAck?.ok && stored.approvals.get(plan.id) !== 'cancelled')
        problems.push(`${plan.id}: cancel was acknowledged but it is ${stored.approvals.get(plan.id)}`);
    }
    const channels = Object.entries(byChannel)
      .map(([via, n]) => `${n} by ${via}`)
      .join(', ');
    results.push(
      check('every acknowledged decision is stored', problems, `${acknowledged} acknowledged (${channels})`),
    );
  }

  // 4. The driver's own plans went as planned (refusals only where it raced, mails arrived).
  {
    const problems = created.flatMap((p) => (p.problems ?? []).map((text) => `#${p.index} ${p.id}: ${text}`));
    for (const p of plans) if (!p.id) problems.push(`#${p.index}: ${(p.problems ?? []).join('; ')}`);
    results.push(
      check(
        'every decision went through or was refused for a reason the driver caused',
        problems,
        `${mailbox.received} mails read, ${plans.reduce((n, p) => n + p.rounds.flat().filter((s) => s.via === 'link').length, 0)} links used`,
      ),
    );
  }

  // 5. The waiting side heard the end: by webhook (at least once, the final state) and by long poll.
  {
    const problems = [];
    let events = 0;
    let deliveries = 0;
    for (const plan of created) {
      const status = stored.approvals.get(plan.id);
      const made = receivers.delivered(plan.id, 'approval.created');
      const ended = receivers.delivered(plan.id, 'approval.decided');
      events += made.length + ended.length;
      deliveries += [...made, ...ended].reduce((n, e) => n + e.deliveries, 0);
      if (made.length !== 1) problems.push(`${plan.id}: ${made.length} approval.created events delivered`);
      if (ended.length !== 1) problems.push(`${plan.id}: ${ended.length} approval.decided events delivered`);
      for (const e of ended)
        if (e.status !== status) problems.push(`${plan.id} is ${status} but its callback said ${e.status}`);
      if (plan.waiter && plan.waiterSaw !== status)
        problems.push(`${plan.id} is ${status} but its long poll saw ${plan.waiterSaw ?? 'nothing'}`);
    }
    const { stats } = receivers;
    if (stats.badSignatures > 0) problems.push(`${stats.badSignatures} callbacks with a bad signature`);
    results.push(
      check(
        'every callback is delivered at least once with the final state',
        problems,
        `${events} events in ${deliveries} deliveries (${stats.duplicates} repeated by webhook-id); receivers answered ${stats.answered500} × 500 and left ${stats.hung} hanging; ${created.filter((p) => p.waiter).length} long polls saw the end`,
      ),
    );
  }

  // 6. The audit trail, recomputed from the stored rows.
  {
    const counted = /verified (\d+) events in (\d+) approvals/.exec(audit.output);
    const problems = [];
    if (audit.code !== 0 || !counted) problems.push(audit.output);
    else if (Number(counted[2]) !== stored.approvals.size)
      problems.push(`verified ${counted[2]} chains for ${stored.approvals.size} approvals`);
    results.push(check('every audit chain verifies', problems, audit.output));
  }

  // 7. Nothing left behind in the outbox, nothing given up on.
  {
    const problems = [];
    if (stored.outbox.pending) problems.push(`${stored.outbox.pending} outbox messages still pending`);
    if (stored.outbox.dead) problems.push(`${stored.outbox.dead} outbox messages dead-lettered`);
    results.push(
      check(
        'the outbox is drained, nothing dead-lettered',
        problems,
        Object.entries(stored.outbox)
          .map(([s, n]) => `${n} ${s}`)
          .join(', '),
      ),
    );
  }

  // 8. Requests: answered, or broken by a kill and sent again; 5xx only while the database was down.
  {
    const { stats } = client;
    const problems = [
      ...stats.serverErrorsOutside.map((e) => `5xx outside the restart window: ${JSON.stringify(e)}`),
      ...stats.unexplainedConnectionErrors.map(
        (e) => `connection error without a kill: ${JSON.stringify(e)}`,
      ),
      ...stats.lost.map((l) => `lost: ${l}`),
    ];
    const accounted =
      stats.answered + stats.connectionErrorsDuringKills + stats.unexplainedConnectionErrors.length;
    if (accounted !== stats.sent) problems.push(`${stats.sent} sent but ${accounted} accounted for`);
    const classes = {};
    for (const [status, n] of stats.byStatus) {
      const family = `${String(status)[0]}xx`;
      classes[family] = (classes[family] ?? 0) + n;
    }
    const answers = Object.entries(classes)
      .sort()
      .map(([family, n]) => `${n} ${family}`)
      .join(', ');
    const serverErrors = [...stats.byStatus]
      .filter(([status]) => status >= 500)
      .map(([status, n]) => `${n} × ${status}`)
      .join(', ');
    results.push(
      check(
        'no request lost, no 5xx outside the database restart window',
        problems,
        `${stats.sent} sent: ${answers}, ${stats.connectionErrorsDuringKills} connection errors during kills (sent again); ${stats.serverErrorsInRestartWindow} 5xx in the restart window${serverErrors ? ` (${serverErrors})` : ''}; ${stats.retried} retries`,
      ),
    );
  }

  // 9. Processes died only when killed.
  {
    const problems = instances.flatMap((i) => i.crashes);
    const startMs = instances.flatMap((i) => i.startMs).sort((a, b) => a - b);
    const median = startMs[Math.floor(startMs.length / 2)] ?? 0;
    results.push(
      check(
        'no instance exited unless killed',
        problems,
        `${instances.map((i) => `${i.name} started ${i.starts}×`).join(', ')}; a start took ${(median / 1000).toFixed(1)} s (median), ${((startMs.at(-1) ?? 0) / 1000).toFixed(1)} s at most`,
      ),
    );
  }
  return results;
}
