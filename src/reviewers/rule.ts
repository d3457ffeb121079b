import { Environment } from '@marcbachmann/cel-js';
import { LRUCache } from 'lru-cache';
import picomatch from 'picomatch';
import type { Approval, RuleStage, StageResult } from '../core/model.js';

type Matcher = (value: string) => boolean;

const matchers = new LRUCache<string, Matcher>({ max: 500 });

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
  .registerVariable('now', 'google.protobuf.Timestamp')
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

type Program = ReturnType<typeof environment.parse>;
const programs = new LRUCache<string, Program>({ max: 1000 });

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

const LIST_MACRO = /\.\s*(all|exists|exists_one|map|filter)\s*\(/g;

/** Why a rule condition cannot be used (a syntax or type error), or undefined when it can. */
export function checkCondition(expression: string): string | undefined {
  // Rules run while a request waits: nested list macros over request data could take minutes.
  if ((expression.match(LIST_MACRO)?.length ?? 0) > 1)
    return 'use at most one list macro (all, exists, exists_one, map, filter) per condition';
  try {
    const checked = program(expression).check();
    if (!checked.valid) return firstLine(checked.error);
    if (checked.type !== 'bool' && checked.type !== 'dyn')
      return `the condition must be true or false, but it gives ${checked.type}`;
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}

/**
 * Evaluates a rule stage: the first rule whose condition holds decides. A condition that
 * fails to evaluate (say, a missing metadata key) stops the stage and hands over to the next
 * stage, so a broken rule never approves and never silently skips a rule after it.
 */
export function reviewRules(stage: RuleStage, approval: Approval, now: Date): StageResult {
  const context = {
    title: approval.title,
    description: approval.description ?? '',
    link: approval.link ?? '',
    requester: approval.requester ?? '',
    metadata: approval.metadata,
    now,
  };
  const base = { stage: stage.name, via: 'rule' as const, at: now };
  for (const [index, rule] of stage.rules.entries()) {
    const label = `Rule ${index + 1} of stage "${stage.name}"`;
    let holds: unknown;
    try {
      holds = program(rule.when)(context);
    } catch (error) {
      return { ...base, outcome: 'skip', reason: `${label} could not be evaluated: ${firstLine(error)}` };
    }
    if (typeof holds !== 'boolean')
      return { ...base, outcome: 'skip', reason: `${label} did not give true or false` };
    if (holds) return { ...base, outcome: rule.then, reason: rule.reason ?? `${label} (${rule.when})` };
  }
  return { ...base, outcome: 'skip', reason: `No rule of stage "${stage.name}" applied` };
}
