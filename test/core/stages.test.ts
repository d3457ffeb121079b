import { describe, expect, it } from 'vitest';
import { decide, newApproval } from '../../src/core/approval.js';
import type { AiReview, AiStage, Approval, Stage } from '../../src/core/model.js';
import { judgeReview } from '../../src/core/review.js';
import {
  advance,
  currentStage,
  evaluateStages,
  pendingApproval,
  waitingStage,
} from '../../src/core/stages.js';
import { compileStages } from '../../src/policies/compile.js';
import type { StageSpec } from '../../src/policies/spec.js';
import { reviewRules } from '../../src/reviewers/rule.js';

// A frozen clock: Wednesday 2026-12-23 10:00 UTC (11:00 in Berlin), inside the freeze below.
const T0 = new Date('2026-12-23T10:00:00Z');
let seq = 0;

function compile(specs: StageSpec[]): Stage[] {
  const { stages, issues } = compileStages(specs, ['stages'], { aiConfigured: true });
  expect(issues).toEqual([]);
  return stages;
}

function start(
  specs: StageSpec[],
  extra: { metadata?: Record<string, unknown>; requester?: string; now?: Date } = {},
): Approval {
  const now = extra.now ?? T0;
  const created = newApproval(
    {
      title: 'Deploy web',
      requester: extra.requester ?? 'dev@example.com',
      metadata: extra.metadata ?? {},
      policy: { stages: compile(specs), allowSelfApproval: false },
      timeoutMs: 24 * 3_600_000,
    },
    now,
    'apr_1',
  );
  return advance(created, now, reviewRules);
}

function vote(
  approval: Approval,
  actor: string,
  verdict: 'approve' | 'reject' = 'approve',
  groups: string[] = [],
) {
  return decide(
    approval,
    { actor: { id: actor, groups }, verdict, via: 'api' },
    T0,
    `dec_${++seq}`,
    reviewRules,
  );
}

function approved(result: ReturnType<typeof vote>): Approval {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result.approval;
}

const docsOnly: StageSpec = {
  name: 'policy',
  type: 'rule',
  rules: [
    { when: "allMatch(metadata.changedFiles, ['**/*.md', 'docs/**'])", then: 'approve', reason: 'docs only' },
  ],
};
const leads: StageSpec = { name: 'leads', type: 'human', gates: [{ approvers: ['lead@example.com'] }] };

describe('rule stages', () => {
  it('approve a docs-only change outright, before any human stage is reached', () => {
    const a = start([docsOnly, leads], {
      metadata: { changedFiles: ['README.md', 'docs/setup/install.txt'] },
    });
    expect(a.status).toBe('approved');
    expect(a.reason).toBe('docs only');
    expect(evaluateStages(a).map((s) => s.status)).toEqual(['passed', 'skipped']);
  });

  it('hand a change that touches code to the next stage', () => {
    const a = start([docsOnly, leads], { metadata: { changedFiles: ['README.md', 'src/app.ts'] } });
    expect(a.status).toBe('pending');
    expect(currentStage(a)?.name).toBe('leads');
    expect(a.results[0]).toMatchObject({ stage: 'policy', outcome: 'skip', via: 'rule' });
  });

  it('never approve a change that lists no files', () => {
    const a = start([docsOnly, leads], { metadata: { changedFiles: [] } });
    expect(a.status).toBe('pending');
  });

  it('hand over, never approve, when a condition cannot be evaluated', () => {
    const a = start([docsOnly, leads], { metadata: {} });
    expect(a.status).toBe('pending');
    expect(a.results[0]?.reason).toContain('could not be evaluated');
  });

  it('reject inside a freeze window and outside business hours in a time zone', () => {
    const freeze: StageSpec = {
      name: 'freeze',
      type: 'rule',
      rules: [
        {
          when: "now >= timestamp('2026-12-20T00:00:00Z') && now < timestamp('2027-01-04T00:00:00Z')",
          then: 'reject',
          reason: 'change freeze until 4 January',
        },
        {
          when: "now.getDayOfWeek('Europe/Berlin') in [0, 6] || now.getHours('Europe/Berlin') < 9 || now.getHours('Europe/Berlin') >= 17",
          then: 'reject',
          reason: 'outside business hours in Berlin',
        },
      ],
    };
    const inFreeze = start([freeze, leads]);
    expect(inFreeze.status).toBe('rejected');
    expect(inFreeze.reason).toBe('change freeze until 4 January');
    // 2027-01-05 is a Tuesday: 07:30 UTC is 08:30 in Berlin, before business hours.
    const early = start([freeze, leads], { now: new Date('2027-01-05T07:30:00Z') });
    expect(early.status).toBe('rejected');
    expect(early.reason).toBe('outside business hours in Berlin');
    const working = start([freeze, leads], { now: new Date('2027-01-05T09:30:00Z') });
    expect(working.status).toBe('pending');
    expect(currentStage(working)?.name).toBe('leads');
  });

  it('approve small changes from trusted requesters', () => {
    const small: StageSpec = {
      name: 'small',
      type: 'rule',
      rules: [
        {
          when: "requester in ['alice@example.com', 'bob@example.com'] && metadata.linesChanged < 20",
          then: 'approve',
        },
      ],
    };
    expect(
      start([small, leads], { requester: 'alice@example.com', metadata: { linesChanged: 12 } }).status,
    ).toBe('approved');
    expect(
      start([small, leads], { requester: 'alice@example.com', metadata: { linesChanged: 400 } }).status,
    ).toBe('pending');
    expect(
      start([small, leads], { requester: 'mallory@example.com', metadata: { linesChanged: 1 } }).status,
    ).toBe('pending');
  });

  it('reject when the last stage hands over to nobody', () => {
    const a = start([docsOnly], { metadata: { changedFiles: ['src/app.ts'] } });
    expect(a.status).toBe('rejected');
  });

  it('pass to the next stage with `pass`, and approve when a passing stage is the last', () => {
    const passing: StageSpec = { name: 'gate', type: 'rule', rules: [{ when: 'true', then: 'pass' }] };
    expect(currentStage(start([passing, leads]))?.name).toBe('leads');
    expect(start([passing]).status).toBe('approved');
  });
});

describe('human gates', () => {
  const twoGates: StageSpec = {
    name: 'signoff',
    type: 'human',
    gates: [
      { approvers: ['lead@example.com', 'both@example.com'], required: 1 },
      { approvers: ['pm@example.com', 'both@example.com'], required: 1 },
    ],
  };

  it('need every parallel gate to pass', () => {
    const a = approved(vote(start([twoGates]), 'lead@example.com'));
    expect(a.status).toBe('pending');
    expect(evaluateStages(a)[0]?.gates.map((g) => g.passed)).toEqual([true, false]);
    const b = approved(vote(a, 'pm@example.com'));
    expect(b.status).toBe('approved');
  });

  it('count one person in at most one gate', () => {
    const a = approved(vote(start([twoGates]), 'both@example.com'));
    expect(a.status).toBe('pending');
    expect(evaluateStages(a)[0]?.gates.flatMap((g) => g.approvals)).toEqual(['both@example.com']);
  });

  it('seat an early approver who fits two gates where a later one cannot go', () => {
    // Greedy counting would put "both" in the first gate and leave the PM gate empty for ever.
    const a = approved(vote(start([twoGates]), 'both@example.com'));
    const b = approved(vote(a, 'lead@example.com'));
    expect(b.status).toBe('approved');
    expect(evaluateStages(b)[0]?.gates.map((g) => g.approvals)).toEqual([
      ['lead@example.com'],
      ['both@example.com'],
    ]);
  });

  it('match groups through the groups the approver had when deciding', () => {
    const grouped: StageSpec = {
      name: 'release',
      type: 'human',
      gates: [{ approvers: ['group:release-managers'], required: 2 }],
    };
    const a = approved(vote(start([grouped]), 'rm1@example.com', 'approve', ['release-managers']));
    expect(a.status).toBe('pending');
    const outsider = vote(a, 'eve@example.com', 'approve', ['developers']);
    expect(outsider.ok || outsider.code).toBe('not_approver');
    expect(approved(vote(a, 'rm2@example.com', 'approve', ['release-managers'])).status).toBe('approved');
  });

  it('refuse the requester, and never count them', () => {
    const own: StageSpec = {
      name: 'leads',
      type: 'human',
      gates: [{ approvers: ['dev@example.com', 'lead@example.com'] }],
    };
    const a = start([own]);
    const self = vote(a, 'DEV@example.com');
    expect(self.ok || self.code).toBe('self_approval');
    expect(approved(vote(a, 'lead@example.com')).status).toBe('approved');
  });

  it('reject the approval on any reject in a stage', () => {
    const a = approved(vote(start([twoGates]), 'lead@example.com'));
    const b = approved(vote(a, 'pm@example.com', 'reject'));
    expect(b.status).toBe('rejected');
    expect(b.reason).toBe('Rejected by pm@example.com');
  });

  it('send only the waiting stage to people: rule and AI stages take no human verdicts', () => {
    const ai: StageSpec = { name: 'ai', type: 'ai', mode: 'decide' };
    const a = start([ai, leads]);
    expect(currentStage(a)?.name).toBe('ai');
    const early = vote(a, 'lead@example.com');
    expect(early.ok || early.code).toBe('already_decided');
  });
});

describe('work queued for a stage', () => {
  const ai: StageSpec = { name: 'ai', type: 'ai', mode: 'decide' };
  const pending = { skipped: 'approval is no longer pending' };
  const moved = { skipped: 'stage is no longer waiting' };

  it('finds the stage while it waits, of the type asked for', () => {
    const a = start([ai, leads]);
    expect(waitingStage(a, 'ai')).toEqual({ approval: a, stage: a.policy.stages[0] });
    expect(waitingStage(a, 'ai', { type: 'ai' })).toMatchObject({ stage: { name: 'ai' } });
    expect(waitingStage(a, 'ai', { type: 'human' })).toEqual(moved);
    expect(waitingStage(a, 'leads')).toEqual(moved);
  });

  it('is skipped once the approval is decided, gone or past its expiry (when the time is given)', () => {
    const a = start([leads]);
    expect(waitingStage(approved(vote(a, 'lead@example.com')), 'leads')).toEqual(pending);
    expect(waitingStage(undefined, 'leads')).toEqual(pending);
    expect(pendingApproval(undefined)).toEqual(pending);
    expect(waitingStage(a, 'leads', { now: a.expiresAt })).toEqual(pending);
    expect(pendingApproval(a, a.expiresAt)).toEqual(pending);
    // Without the time, an approval the sweeper has not expired yet still waits.
    expect(waitingStage(a, 'leads')).toMatchObject({ stage: { name: 'leads' } });
    expect(pendingApproval(a, new Date(a.expiresAt.getTime() - 1))).toEqual({ approval: a });
  });
});

describe('AI verdicts', () => {
  const stage = (extra: Partial<AiStage> = {}): AiStage => ({
    name: 'ai',
    type: 'ai',
    mode: 'decide',
    instructions: null,
    minConfidence: 0.8,
    canApprove: true,
    ...extra,
  });
  const review = (extra: Partial<AiReview> = {}): AiReview => ({
    model: 'm',
    mode: 'decide',
    verdict: 'approve',
    confidence: 0.95,
    rationale: 'fine',
    error: null,
    ...extra,
  });
  const outcome = (s: AiStage, r: AiReview) => judgeReview(s, r, T0).outcome;

  it('count only confident, well-formed verdicts of a deciding stage', () => {
    expect(outcome(stage(), review())).toBe('approve');
    expect(outcome(stage(), review({ verdict: 'reject' }))).toBe('reject');
    expect(outcome(stage(), review({ confidence: 0.5 }))).toBe('skip');
    expect(outcome(stage(), review({ verdict: 'escalate' }))).toBe('skip');
    expect(outcome(stage(), review({ verdict: null, confidence: null, error: 'timeout' }))).toBe('skip');
  });

  it('never approve alone with canApprove: false, and never decide in advise or shadow mode', () => {
    expect(outcome(stage({ canApprove: false }), review())).toBe('skip');
    expect(outcome(stage({ canApprove: false }), review({ verdict: 'reject' }))).toBe('reject');
    expect(outcome(stage({ mode: 'advise' }), review({ verdict: 'reject' }))).toBe('skip');
    expect(outcome(stage({ mode: 'shadow' }), review())).toBe('skip');
  });
});

describe('rule conditions', () => {
  it('are refused when they cannot be evaluated in bounded time or give no boolean', () => {
    const issues = (when: string) =>
      compileStages([{ type: 'rule', rules: [{ when, then: 'approve' }] }], ['stages'], {
        aiConfigured: false,
      }).issues;
    expect(issues('metadata.files.all(f, f.endsWith(".md"))')).toEqual([]);
    expect(issues('metadata.a.all(x, metadata.b.all(y, x == y))')[0]?.message).toContain(
      'at most one list macro',
    );
    expect(issues('1 + 2')[0]?.message).toContain('true or false');
    expect(issues('metadata.files +')[0]?.path).toEqual(['stages', 0, 'rules', 0, 'when']);
  });
});
