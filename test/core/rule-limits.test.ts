import { describe, expect, it } from 'vitest';
import { newApproval } from '../../src/core/approval.js';
import type { Approval, RuleStage } from '../../src/core/model.js';
import { compileStages } from '../../src/policies/compile.js';
import { RULE_STAGE_BUDGET_MS, reviewRules } from '../../src/reviewers/rule.js';

const T0 = new Date('2026-12-23T10:00:00Z');

/** The issues a one-rule stage with this condition compiles to. */
function issues(when: string) {
  return compileStages([{ type: 'rule', rules: [{ when, then: 'approve' }] }], ['stages'], {
    aiConfigured: false,
  }).issues;
}

function ruleStage(when: string): RuleStage {
  const { stages, issues } = compileStages(
    [{ name: 'rules', type: 'rule', rules: [{ when, then: 'approve', reason: 'matched' }] }],
    ['stages'],
    { aiConfigured: false },
  );
  expect(issues).toEqual([]);
  return stages[0] as RuleStage;
}

function approval(fields: { title?: string; description?: string; metadata?: Record<string, unknown> }) {
  return newApproval(
    {
      title: fields.title ?? 'Deploy web',
      description: fields.description,
      metadata: fields.metadata ?? {},
      policy: { stages: [], allowSelfApproval: false },
      timeoutMs: 3_600_000,
    },
    T0,
    'apr_1',
  );
}

/** Reviews `stage` and measures how long the request thread was held. */
function timedReview(stage: RuleStage, subject: Approval) {
  const started = performance.now();
  const result = reviewRules(stage, subject, T0);
  return { result, ms: performance.now() - started };
}

const REDOS = "description.matches('^(a+)+$')";

describe('regular expressions in rule conditions', () => {
  it('run in linear time: a pattern that backtracks exponentially in JavaScript answers at once', () => {
    const stage = ruleStage(REDOS);
    expect(reviewRules(stage, approval({ description: 'a'.repeat(10_000) }), T0).outcome).toBe('approve');
    // Backtracking would run past the budget and hand over "in time"; RE2 answers within it.
    const result = reviewRules(stage, approval({ description: `${'a'.repeat(10_000)}!` }), T0);
    expect(result.outcome).toBe('skip');
    expect(result.reason).toBe('No rule of stage "rules" applied');
  });

  it('use RE2 syntax, on string fields and on metadata alike', () => {
    const stage = ruleStage(
      "title.matches('^Deploy (?P<app>[a-z]+)$') && metadata.branch.matches('^release/')",
    );
    expect(reviewRules(stage, approval({ metadata: { branch: 'release/2.3' } }), T0).outcome).toBe('approve');
    expect(reviewRules(stage, approval({ metadata: { branch: 'main' } }), T0).outcome).toBe('skip');
  });

  it.each([
    ['a backreference', "title.matches('(a)\\\\1')"],
    ['a lookahead', "title.matches('^(?=deploy)')"],
    ['a negative lookbehind', "title.matches('(?<!x)y')"],
    ['an unclosed class', "title.matches('[a-')"],
    ['a repeat count RE2 refuses', "title.matches('a{1001}')"],
  ])('are refused where conditions are compiled when RE2 cannot run them: %s', (_name, when) => {
    expect(issues(when).map((i) => i.path)).toEqual([['stages', 0, 'rules', 0, 'when']]);
  });

  it('hand over when a pattern that comes from the request is not RE2', () => {
    const stage = ruleStage('title.matches(metadata.pattern)');
    const result = reviewRules(stage, approval({ metadata: { pattern: '(?=Deploy)' } }), T0);
    expect(result.outcome).toBe('skip');
    expect(result.reason).toContain('could not be evaluated');
  });
});

describe('the cost of a rule condition', () => {
  it('is measured on the parsed expression, so a comment cannot hide a second list macro', () => {
    expect(issues('metadata.a.all(x, metadata.b.exists(y, x == y))')).toHaveLength(1);
    expect(issues('metadata.a.all(x, metadata.b.//\nexists(y, x == y))')).toHaveLength(1);
    expect(issues('metadata.a.all(x, metadata.b . exists_one(y, x == y))')).toHaveLength(1);
    // A macro name in a string or a comment costs nothing.
    expect(issues("metadata.a.all(x, x != '.exists(') // .map(y, y)")).toEqual([]);
  });

  it('bounds the nesting depth and the size of the expression', () => {
    expect(issues(`${'!'.repeat(40)}true`)).toHaveLength(1);
    expect(issues(`${'-'.repeat(35)}1 < 0`)).toHaveLength(1);
    expect(issues(Array.from({ length: 300 }, (_, i) => `title == 't${i}'`).join(' || '))).toHaveLength(1);
    // A long chain of one operator is long, not deep.
    expect(issues(Array.from({ length: 60 }, (_, i) => `title == 't${i}'`).join(' || '))).toEqual([]);
  });

  it('is bounded at run time too: a condition over its time budget hands over', () => {
    const stage = ruleStage("description.split('').all(c, (description + description).split('').size() > 0)");
    const { result, ms } = timedReview(stage, approval({ description: 'x'.repeat(10_000) }));
    expect(result.outcome).toBe('skip');
    expect(result.reason).toContain(`${RULE_STAGE_BUDGET_MS} ms`);
    // Stopped when it has held the thread for its limit: generous room for a loaded machine, far
    // below the seconds the rule would take.
    expect(ms).toBeLessThan(5_000);
    // The stage still works afterwards.
    expect(reviewRules(stage, approval({ description: 'xy' }), T0).outcome).toBe('approve');
  });
});
