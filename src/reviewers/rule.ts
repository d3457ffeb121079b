import { createContext, Script } from 'node:vm';
import { Environment } from '@marcbachmann/cel-js';
import { LRUCache } from 'lru-cache';
import picomatch from 'picomatch';
import type { Approval, RuleStage, StageResult } from '../core/model.js';
import { conditionCostProblem } from './condition-cost.js';
import { forgetPatterns, LINEAR_MATCHES } from './regex.js';

/** How much CPU time the conditions of one rule stage may use, all together. */
export const RULE_STAGE_BUDGET_MS = 50;
/**
 * How long an evaluation may hold the request thread before it is stopped, whatever it has
 * used. The budget is CPU time because a loaded machine stretches wall time: a trivial rule
 * must not hand over because another process had the core. This limit only keeps a costly
 * condition from holding the thread for long.
 */
const RULE_STAGE_HOLD_LIMIT_MS = 4 * RULE_STAGE_BUDGET_MS;

/** CPU time this process used since `since`, in milliseconds. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

type Matcher = (value: string) => boolean;

let matchers = new LRUCache<string, Matcher>({ max: 500 });

/** A matcher for a list of globs; compiled once per distinct list. */
function globMatcher(patterns: readonly unknown[]): Matcher {
  const key = JSON.stringify(patterns);
  let matcher = matchers.get(key);
  if (!matcher) {
    matcher = picomatch(patterns.map(String));
    matchers.set(key, matcher);
  }
  return matcher;
}

/**
 * The rule language: CEL over the approval, with glob helpers. `now` is a timestamp, so
 * calendars work with CEL's own methods, e.g. `now.getHours('Europe/Berlin') < 9` or
 * `now.getDayOfWeek('Europe/Berlin') in [0, 6]`.
 */
const environment = new Environment({
  limits: { maxAstNodes: 500, maxDepth: 40, maxListElements: 200, maxMapEntries: 200, maxCallArguments: 8 },
})
  .registerVariable('title', 'string')
  .registerVariable('description', 'string')
  .registerVariable('link', 'string')
  .registerVariable('requester', 'string')
  .registerVariable('metadata', 'map')
  // The action an agent asks to take (`action.tool`, `action.arguments`); empty when none was named.
  .registerVariable('action', 'map')
  .registerVariable('now', 'google.protobuf.Timestamp')
  .registerFunction(LINEAR_MATCHES.signature, LINEAR_MATCHES.expand)
  // An empty list matches nothing: a change that names no files is not "docs only".
  .registerFunction('allMatch(list, list): bool', (values: unknown[], patterns: unknown[]) => {
    const matches = globMatcher(patterns);
    return values.length > 0 && values.every((v) => typeof v === 'string' && matches(v));
  })
  .registerFunction('anyMatch(list, list): bool', (values: unknown[], patterns: unknown[]) => {
    const matches = globMatcher(patterns);
    return values.some((v) => typeof v === 'string' && matches(v));
  })
  .registerFunction('globMatch(string, list): bool', (value: string, patterns: unknown[]) =>
    globMatcher(patterns)(value),
  );

// The first time zone anything asks for loads ICU's data (tens of milliseconds): load it as the
// module loads, not inside the first rule's time budget.
new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', hour: 'numeric' }).format(0);

type Program = ReturnType<typeof environment.parse>;
let programs = new LRUCache<string, Program>({ max: 1000 });

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'error';
}

function program(expression: string): Program {
  let compiled = programs.get(expression);
  if (!compiled) {
    compiled = environment.parse(expression);
    programs.set(expression, compiled);
  }
  return compiled;
}

/** Why a rule condition cannot be used (a syntax, type or cost problem), or undefined when it can. */
export function checkCondition(expression: string): string | undefined {
  try {
    const parsed = program(expression);
    // Rules run while a request waits: their cost is bounded from what was parsed, not from the text.
    const tooCostly = conditionCostProblem(parsed.ast);
    if (tooCostly) return tooCostly;
    const checked = parsed.check();
    if (!checked.valid) return firstLine(checked.error);
    if (checked.type !== 'bool' && checked.type !== 'dyn')
      return `the condition must be true or false, but it gives ${checked.type}`;
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}

/**
 * A context that lends its `timeout` to whatever runs in it: V8 stops the call when the time is
 * up, even inside a regular expression or a glob, and the request thread goes on.
 */
const budgeted = createContext({});
const callTask = new Script('task()');

class OverBudget extends Error {}

function runWithin<T>(ms: number, task: () => T): T {
  budgeted.task = task;
  try {
    return callTask.runInContext(budgeted, { timeout: ms });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new OverBudget();
    throw error;
  } finally {
    budgeted.task = undefined;
  }
}

/** A stopped evaluation may have been cut off halfway through updating a cache: start them afresh. */
function forgetCaches(): void {
  programs = new LRUCache<string, Program>({ max: 1000 });
  matchers = new LRUCache<string, Matcher>({ max: 500 });
  forgetPatterns();
}

/**
 * Evaluates a rule stage: the first rule whose condition holds decides. A condition that
 * fails to evaluate (say, a missing metadata key) stops the stage and hands over to the next
 * stage, so a broken rule never approves and never silently skips a rule after it. So does a
 * stage whose conditions take longer than RULE_STAGE_BUDGET_MS together.
 */
export function reviewRules(stage: RuleStage, approval: Approval, now: Date): StageResult {
  const context = {
    title: approval.title,
    description: approval.description ?? '',
    link: approval.link ?? '',
    requester: approval.requester ?? '',
    metadata: approval.metadata,
    action: approval.action?.content ?? {},
    now,
  };
  const base = { stage: stage.name, via: 'rule' as const, at: now };
  const label = (index: number) => `Rule ${index + 1} of stage "${stage.name}"`;
  let current = 0;
  const evaluateRules = (): StageResult => {
    for (const [index, rule] of stage.rules.entries()) {
      current = index;
      let holds: unknown;
      try {
        holds = program(rule.when)(context);
      } catch (error) {
        return {
          ...base,
          outcome: 'skip',
          reason: `${label(index)} could not be evaluated: ${firstLine(error)}`,
        };
      }
      if (typeof holds !== 'boolean')
        return { ...base, outcome: 'skip', reason: `${label(index)} did not give true or false` };
      if (holds)
        return { ...base, outcome: rule.then, reason: rule.reason ?? `${label(index)} (${rule.when})` };
    }
    return { ...base, outcome: 'skip', reason: `No rule of stage "${stage.name}" applied` };
  };
  // Parsing is bounded by the conditions' size and done once per condition; only evaluating,
  // which the request's data can make slow, runs against the budget.
  for (const rule of stage.rules) {
    try {
      program(rule.when);
    } catch {
      // Evaluating it reports the problem and hands over.
    }
  }
  const started = process.cpuUsage();
  try {
    const result = runWithin(RULE_STAGE_HOLD_LIMIT_MS, evaluateRules);
    if (cpuMsSince(started) <= RULE_STAGE_BUDGET_MS) return result;
  } catch (error) {
    if (!(error instanceof OverBudget)) throw error;
    forgetCaches();
  }
  return {
    ...base,
    outcome: 'skip',
    reason: `${label(current)} could not be evaluated in time: the rules of a stage may take ${RULE_STAGE_BUDGET_MS} ms of CPU in all`,
  };
}
