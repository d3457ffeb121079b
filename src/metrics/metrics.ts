import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Observation, Observer } from '../observer.js';
import { countOverdueBreakGlassReviews } from '../store/break-glass.js';
import type { Db } from '../store/database.js';
import {
  countOutboxBacklog,
  countPendingApprovals,
  findOldestDueOutboxAt,
  findOldestPendingCreatedAt,
} from '../store/metrics.js';

export interface Metrics extends Observer {
  /** The registry of this instance (never prom-client's global one: a process may run several). */
  readonly registry: Registry;
}

/** From a minute to a week: how long people take to decide. */
const DECISION_BUCKETS = [
  1,
  10,
  60,
  300,
  900,
  1800,
  3600,
  4 * 3600,
  12 * 3600,
  86_400,
  3 * 86_400,
  7 * 86_400,
];
const AI_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The counters and histograms that move as things happen, in `registry`. */
function eventMetrics(registry: Registry) {
  const registers = [registry];
  const created = new Counter({
    name: 'signoff_approvals_created_total',
    help: 'Approvals asked for, by policy ("inline" when the request spelled out its stages).',
    labelNames: ['policy'],
    registers,
  });
  const ended = new Counter({
    name: 'signoff_approvals_ended_total',
    help: 'Approvals that ended, by outcome (approved, rejected, expired, cancelled) and policy.',
    labelNames: ['outcome', 'policy'],
    registers,
  });
  const timeToDecision = new Histogram({
    name: 'signoff_time_to_decision_seconds',
    help: 'From the request to its end, by outcome and policy.',
    labelNames: ['outcome', 'policy'],
    buckets: DECISION_BUCKETS,
    registers,
  });
  const deliveries = new Counter({
    name: 'signoff_deliveries_total',
    // Every outbox kind of src/outbox/kinds.ts, which this layer may not import:
    // test/outbox/kinds-doc.test.ts holds the list to it.
    help: 'Outbox delivery attempts by kind (email, webhook, resume, heartbeat, review, timer, github-answer, slack-post, slack-sync, sign-in-mail, break-glass-mail) and result (delivered, retry, dead).',
    labelNames: ['kind', 'result'],
    registers,
  });
  const deadLetters = new Counter({
    name: 'signoff_dead_letters_total',
    help: 'Outbox messages given up on (dead-lettered) by this instance, by kind.',
    labelNames: ['kind'],
    registers,
  });
  const aiReviews = new Counter({
    name: 'signoff_ai_reviews_total',
    help: 'AI reviews by verdict (approve, reject, escalate, error).',
    labelNames: ['verdict'],
    registers,
  });
  const aiLatency = new Histogram({
    name: 'signoff_ai_review_duration_seconds',
    help: 'How long the AI reviewer took to answer (or fail).',
    buckets: AI_BUCKETS,
    registers,
  });
  const http = new Histogram({
    name: 'signoff_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers,
  });
  const breakGlass = new Counter({
    name: 'signoff_break_glass_total',
    help: 'Approvals approved at once by break-glass, by policy.',
    labelNames: ['policy'],
    registers,
  });
  return { created, ended, timeToDecision, deliveries, deadLetters, aiReviews, aiLatency, http, breakGlass };
}

/**
 * The backlog gauges, read from the database at each scrape, so every instance reports the
 * same shared figures.
 */
function registerBacklogGauges(registry: Registry, db: Db, now: () => Date): void {
  const registers = [registry];
  new Gauge({
    name: 'signoff_approvals_pending',
    help: 'Approvals waiting for a decision.',
    registers,
    async collect() {
      this.set(await countPendingApprovals(db));
    },
  });
  new Gauge({
    name: 'signoff_oldest_pending_approval_age_seconds',
    help: 'How long the oldest waiting approval has waited (0 when none waits).',
    registers,
    async collect() {
      const at = await findOldestPendingCreatedAt(db);
      this.set(at === null ? 0 : Math.max(0, (now().getTime() - at) / 1000));
    },
  });
  new Gauge({
    name: 'signoff_outbox_depth',
    help: 'Outbox messages not delivered yet (due now or scheduled for a retry).',
    registers,
    async collect() {
      this.set((await countOutboxBacklog(db)).pending);
    },
  });
  new Gauge({
    name: 'signoff_outbox_dead_letters',
    help: 'Dead-lettered outbox messages kept in the database (see GET /v1/outbox).',
    registers,
    async collect() {
      this.set((await countOutboxBacklog(db)).dead);
    },
  });
  new Gauge({
    name: 'signoff_outbox_oldest_due_age_seconds',
    help: 'How long the oldest message that is due has been due (0 when none is): a stalled dispatcher shows here.',
    registers,
    async collect() {
      const at = await findOldestDueOutboxAt(db, now());
      this.set(at === null ? 0 : Math.max(0, (now().getTime() - at) / 1000));
    },
  });
  new Gauge({
    name: 'signoff_break_glass_reviews_overdue',
    help: 'After-reviews of a break-glass still open past their deadline (SIGNOFF_BREAK_GLASS_REVIEW).',
    registers,
    async collect() {
      this.set(await countOverdueBreakGlassReviews(db, now()));
    },
  });
}

/**
 * signoff's Prometheus metrics. Counters and histograms move as things happen (it is the
 * Observer the use cases, the outbox and the HTTP layer tell); the backlog gauges are read
 * from the database at each scrape, so every instance reports the same shared figures.
 */
export function createMetrics(db: Db, now: () => Date): Metrics {
  const registry = new Registry();
  const { created, ended, timeToDecision, deliveries, deadLetters, aiReviews, aiLatency, http, breakGlass } =
    eventMetrics(registry);
  registerBacklogGauges(registry, db, now);
  // Every request is counted: its series is looked up once per route and status, not built
  // from a label object each time. Routes are patterns and statuses few, so this stays small.
  const httpChildren = new Map<string, ReturnType<typeof http.labels>>();
  const httpSeries = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let series = httpChildren.get(key);
    if (!series) {
      series = http.labels({ method, route, status: String(status) });
      httpChildren.set(key, series);
    }
    return series;
  };

  function observe(o: Observation): void {
    switch (o.type) {
      case 'approval.created':
        created.inc({ policy: o.policy });
        return;
      case 'approval.ended':
        ended.inc({ outcome: o.outcome, policy: o.policy });
        timeToDecision.observe({ outcome: o.outcome, policy: o.policy }, o.durationMs / 1000);
        return;
      case 'approval.break_glass':
        breakGlass.inc({ policy: o.policy });
        return;
      case 'delivery':
        deliveries.inc({ kind: o.kind, result: o.result });
        if (o.result === 'dead') deadLetters.inc({ kind: o.kind });
        return;
      case 'ai.review':
        aiReviews.inc({ verdict: o.verdict });
        aiLatency.observe(o.durationMs / 1000);
        return;
      case 'http.request':
        httpSeries(o.method, o.route, o.status).observe(o.durationMs / 1000);
        return;
    }
  }
  return { registry, observe };
}
