// Carries out the plans against whatever instances are running: creates each approval with a
// webhook callback, waits for the approvers' mail, and decides by link, API and web as planned.
import { decisionToken } from './people.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * A mail with a link travels through the outbox, and maybe through a crash or two; on a busy
 * machine the outbox can lag far behind. Late is not lost: only a mail that never comes is.
 */
const MAIL_WAIT_MS = 300_000;
const POLL_FOR_MS = 300_000;

function codeOf(answer) {
  try {
    return JSON.parse(answer.body).error.code;
  } catch {
    return `HTTP ${answer.status}`;
  }
}

/**
 * Runs every plan, `loadMs` spread over the plans (at most `concurrency` at once). Each plan
 * gets `id`, `acks` (what each decision was answered), `cancelAck`, `waiterSaw` and `problems`.
 */
export async function drive({
  plans,
  client,
  admin,
  keys,
  browsers,
  mailbox,
  receivers,
  secret,
  tag,
  loadMs,
  concurrency,
  instanceCount,
  random,
  progress,
}) {
  const adminHeaders = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const subjectOf = (plan) => `Approval needed: chaos ${tag} #${plan.index}`;
  let running = 0;
  const slots = [];
  const acquire = async () => {
    while (running >= concurrency) await new Promise((resolve) => slots.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    slots.shift()?.();
  };

  async function create(plan) {
    const answer = await client.call({
      method: 'POST',
      path: '/v1/approvals',
      headers: { ...adminHeaders, 'idempotency-key': `chaos-${tag}-${plan.index}` },
      body: JSON.stringify({
        title: `chaos ${tag} #${plan.index}`,
        approvers: plan.approvers,
        required: plan.required,
        timeout: plan.timeout ?? '1h',
        callback: { type: 'webhook', url: receivers.urls[plan.receiver], secret },
      }),
    });
    // A retried create answers 200 with the first approval: the Idempotency-Key at work.
    if (answer.status !== 201 && !(answer.status === 200 && answer.uncertain))
      throw new Error(`create #${plan.index}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
    plan.id = JSON.parse(answer.body).id;
    plan.createdAt = Date.now();
    progress.created++;
  }

  async function decideByApi(plan, step, target) {
    const answer = await client.call({
      method: 'POST',
      path: `/v1/approvals/${plan.id}/decisions`,
      headers: { authorization: `Bearer ${keys.get(step.person)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: step.verdict, comment: 'chaos' }),
      target,
    });
    return {
      ok: answer.status === 201,
      code: answer.status === 201 ? 'ok' : codeOf(answer),
      uncertain: answer.uncertain,
    };
  }

  async function decideByLink(_plan, step, target) {
    const answer = await client.call({
      method: 'POST',
      path: `/d/${step.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: `verdict=${step.verdict}`,
      target,
    });
    return {
      ok: answer.status === 200,
      code: answer.status === 200 ? 'ok' : codeOf(answer),
      uncertain: answer.uncertain,
    };
  }

  async function decideByWeb(plan, step, target) {
    const answer = await browsers.get(step.person).decide(plan.id, step.verdict, target);
    return { ok: answer.code === 'ok', code: answer.code, uncertain: answer.uncertain };
  }

  async function cancel(plan, target) {
    const answer = await client.call({
      method: 'POST',
      path: `/v1/approvals/${plan.id}/cancel`,
      headers: adminHeaders,
      body: JSON.stringify({ reason: 'chaos' }),
      target,
    });
    if (answer.status === 200) plan.endedAt = Date.now();
    plan.cancelAck = {
      ok: answer.status === 200,
      code: answer.status === 200 ? 'ok' : codeOf(answer),
      uncertain: answer.uncertain,
    };
  }

  const decideBy = { api: decideByApi, link: decideByLink, web: decideByWeb };

  async function runStep(plan, step, target) {
    if (step.cancel) return cancel(plan, target);
    const ack = {
      person: step.person,
      verdict: step.verdict,
      via: step.via,
      ...(await decideBy[step.via](plan, step, target)),
    };
    plan.acks.push(ack);
    if (ack.ok) {
      progress.decisions++;
      plan.endedAt = Date.now();
    }
    // A refusal is expected only where the plan raced on purpose, or an earlier attempt of the
    // same request may have gone through before its answer was lost.
    if (!ack.ok && !plan.contended && !ack.uncertain)
      plan.problems.push(`${step.via} ${step.verdict} by ${step.person} refused: ${ack.code}`);
  }

  /** A workflow waiting by long poll: asks again after each timeout until the approval ends. */
  async function waitLikeAWorkflow(plan) {
    const deadline = Date.now() + POLL_FOR_MS;
    while (Date.now() < deadline) {
      const answer = await client.call({
        path: `/v1/approvals/${plan.id}/wait?timeout=10s`,
        headers: { authorization: `Bearer ${admin}` },
        timeoutMs: 40_000,
      });
      if (answer.status !== 200) {
        plan.problems.push(`long poll answered HTTP ${answer.status}`);
        return;
      }
      const { status } = JSON.parse(answer.body);
      if (status !== 'pending') {
        plan.waiterSaw = status;
        return;
      }
    }
    plan.problems.push('long poll never saw the approval end');
  }

  async function run(plan) {
    plan.acks = [];
    plan.problems = [];
    await create(plan);
    const waiter = plan.waiter
      ? waitLikeAWorkflow(plan).catch((e) => plan.problems.push(e.message))
      : undefined;
    // Every link is in hand before anyone decides: mail is sent only while the approval waits.
    for (const round of plan.rounds)
      for (const step of round)
        if (step.via === 'link') {
          const mail = await mailbox.next(step.person, subjectOf(plan), MAIL_WAIT_MS);
          step.token = decisionToken(mail);
          progress.linksMailed++;
          progress.mailLatencyMs.push(mail.at - plan.createdAt);
        }
    await sleep(plan.pauseMs);
    for (const round of plan.rounds) {
      const first = Math.floor(random() * instanceCount);
      await Promise.all(round.map((step, i) => runStep(plan, step, (first + i) % instanceCount)));
    }
    await waiter;
  }

  const started = Date.now();
  const gap = loadMs / plans.length;
  await Promise.all(
    plans.map(async (plan) => {
      await sleep(Math.max(0, started + plan.index * gap - Date.now()));
      await acquire();
      try {
        await run(plan);
      } catch (error) {
        plan.problems ??= [];
        plan.problems.push(error.message);
      } finally {
        progress.finished++;
        release();
      }
    }),
  );
}
