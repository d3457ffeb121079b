import { ParseError } from '@marcbachmann/cel-js';
import { LRUCache } from 'lru-cache';
import { RE2JS, RE2JSException } from 're2js';

/** The parts of cel-js's checker and evaluator a macro uses (its own types call them `any`). */
interface CelType {
  readonly kind: string;
  readonly name: string;
}
interface Checker {
  check(node: unknown, context: unknown): CelType;
  getType(name: string): CelType;
  createError(code: string, message: string, node: unknown): Error;
}
interface Evaluator {
  run(node: unknown, context: unknown): unknown;
}
interface MacroCall {
  readonly ast: unknown;
  readonly receiver: unknown;
  readonly args: readonly { readonly op: string; readonly args: unknown }[];
}
interface MatchesMacro {
  readonly ast: unknown;
  readonly receiver: unknown;
  readonly pattern: unknown;
}

let patterns = new LRUCache<string, RE2JS>({ max: 500 });

/**
 * Forgets every compiled pattern. After a rule was stopped mid-evaluation the cache may have
 * been interrupted in the middle of an update, so it is replaced rather than trusted.
 */
export function forgetPatterns(): void {
  patterns = new LRUCache<string, RE2JS>({ max: 500 });
}

/** Why RE2 cannot run `pattern`, or undefined when it can. */
function re2Problem(pattern: string): string | undefined {
  try {
    compiledPattern(pattern);
    return undefined;
  } catch (error) {
    if (error instanceof RE2JSException) return error.message;
    throw error;
  }
}

function compiledPattern(pattern: string): RE2JS {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    compiled = RE2JS.compile(pattern);
    patterns.set(pattern, compiled);
  }
  return compiled;
}

function refusal(pattern: string, problem: string): string {
  return `matches() takes RE2 syntax (no backreferences or lookaround); ${JSON.stringify(pattern)}: ${problem}`;
}

function isString(type: CelType): boolean {
  return type.kind === 'dyn' || type.name === 'string';
}

function typeCheck(checker: Checker, macro: MatchesMacro, context: unknown): CelType {
  const receiver = checker.check(macro.receiver, context);
  const pattern = checker.check(macro.pattern, context);
  if (!isString(receiver) || !isString(pattern))
    throw checker.createError(
      'no_matching_overload',
      `found no matching overload for '${receiver.name}.matches(${pattern.name})'`,
      macro.ast,
    );
  return checker.getType('bool');
}

function evaluate(evaluator: Evaluator, macro: MatchesMacro, context: unknown): boolean {
  const value = evaluator.run(macro.receiver, context);
  const pattern = evaluator.run(macro.pattern, context);
  if (typeof value !== 'string' || typeof pattern !== 'string')
    throw new Error(`matches() needs a string and a pattern, not ${typeof value} and ${typeof pattern}`);
  const problem = re2Problem(pattern);
  if (problem) throw new Error(refusal(pattern, problem));
  return compiledPattern(pattern).test(value);
}

/**
 * `string.matches(pattern)` on RE2, which matches in time linear in the input: cel-js's own
 * overload runs a backtracking JavaScript RegExp on the request thread. A pattern written in
 * the condition is compiled when the condition is parsed, so one RE2 cannot run (a
 * backreference, a lookahead) is refused where policies are checked, not when a rule runs.
 * Like CEL's `matches`, the pattern may match anywhere in the string.
 */
function expandMatches(call: MacroCall) {
  const pattern = call.args[0];
  if (pattern?.op === 'value' && typeof pattern.args === 'string') {
    const problem = re2Problem(pattern.args);
    if (problem) throw new ParseError(refusal(pattern.args, problem));
  }
  return { ast: call.ast, receiver: call.receiver, pattern, typeCheck, evaluate, async: false };
}

/**
 * cel-js cannot replace a built-in overload and refuses a second `string.matches`. It expands
 * a macro by name and arity whatever the receiver, though, so a macro declared on a receiver
 * type without a `matches` of its own (bytes) takes over every `x.matches(p)`; its type check
 * then accepts strings only. The rule tests prove the takeover: RE2 syntax that JavaScript
 * refuses works, and a pattern that backtracks in JavaScript answers at once.
 */
export const LINEAR_MATCHES = { signature: 'bytes.matches(ast): bool', expand: expandMatches } as const;
