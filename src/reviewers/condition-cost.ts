import type { ASTNode } from '@marcbachmann/cel-js';

/** What a condition may cost, measured on its parsed expression (comments and spacing cost nothing). */
export const CONDITION_LIMITS = { nodes: 500, depth: 32, listMacros: 1 } as const;

/** Macros that iterate over a list: one inside another multiplies the lengths of both lists. */
const LIST_MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
/** Operators whose chains (`a || b || c`) are long rather than deep. */
const CHAINS = new Set(['&&', '||', '+']);

interface Cost {
  nodes: number;
  depth: number;
  listMacros: number;
}

function isNode(value: unknown): value is ASTNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

function collectNodes(value: unknown, into: ASTNode[]): ASTNode[] {
  if (Array.isArray(value)) for (const item of value) collectNodes(item, into);
  else if (isNode(value)) into.push(value);
  return into;
}

function children(node: ASTNode): ASTNode[] {
  return node.op === 'value' || node.op === 'id' ? [] : collectNodes(node.args, []);
}

function measure(node: ASTNode): Cost {
  const cost = {
    nodes: 1,
    depth: 1,
    listMacros: node.op === 'rcall' && LIST_MACROS.has(node.args[0]) ? 1 : 0,
  };
  for (const child of children(node)) {
    const inner = measure(child);
    cost.nodes += inner.nodes;
    cost.listMacros += inner.listMacros;
    const level = CHAINS.has(node.op) && child.op === node.op ? 0 : 1;
    cost.depth = Math.max(cost.depth, inner.depth + level);
  }
  return cost;
}

/** Why a parsed condition would cost too much to run while a request waits, or undefined. */
export function conditionCostProblem(ast: ASTNode): string | undefined {
  const cost = measure(ast);
  if (cost.listMacros > CONDITION_LIMITS.listMacros)
    return 'use at most one list macro (all, exists, exists_one, map, filter) per condition';
  if (cost.depth > CONDITION_LIMITS.depth)
    return `the condition nests ${cost.depth} levels deep; at most ${CONDITION_LIMITS.depth} are allowed`;
  if (cost.nodes > CONDITION_LIMITS.nodes)
    return `the condition has ${cost.nodes} parts; at most ${CONDITION_LIMITS.nodes} are allowed`;
  return undefined;
}
