import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The house's folders import each other in one direction only: no folder (nor root file of
// src/) reaches itself again through others, types included.
const SRC = 'src';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** A file's place in the house: its folder under src/, or the root file itself. */
function placeOf(path: string): string {
  const [first, ...rest] = relative(SRC, path).split(sep);
  return rest.length > 0 ? `${first}/` : (first ?? path);
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files(SRC)) {
    const from = placeOf(file);
    for (const [, target] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = placeOf(normalize(join(dirname(file), target ?? '')).replace(/\.js$/, '.ts'));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)?.add(to);
    }
  }
  return graph;
}

/** Every cycle through `start`, as the places it passes. */
function cyclesThrough(graph: Map<string, Set<string>>, start: string): string[][] {
  const found: string[][] = [];
  const walk = (at: string, path: string[]) => {
    for (const next of graph.get(at) ?? []) {
      if (next === start) found.push([...path, start]);
      else if (!path.includes(next)) walk(next, [...path, next]);
    }
  };
  walk(start, [start]);
  return found;
}

describe('the import graph of src/', () => {
  it('has no cycle between folders or root files, types included', () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(10);
    const cycles = [...graph.keys()].flatMap((place) => cyclesThrough(graph, place));
    expect(cycles.map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('has nothing of the outbox, the unit of work or the adapters under services.ts', () => {
    const below = folderGraph().get('services.ts') ?? new Set();
    for (const upward of ['outbox/', 'unit-of-work/', 'channels/', 'callbacks/', 'approvals/', 'http/'])
      expect(below.has(upward), upward).toBe(false);
  });
});

// Small files, small functions: a file of src/ over 300 lines or a function over 80 is asking to
// be split. The exceptions are named here and, with the same reasons, in the README's "How it
// holds together"; a path ending in "/" excepts everything under it.
const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 80;

interface Exception {
  readonly path: string;
  readonly reason: string;
}

const FILE_EXCEPTIONS: readonly Exception[] = [
  {
    path: 'src/http/responses.ts',
    reason: "the declarative table of every answer's schema",
  },
  { path: 'src/store/migrations/', reason: 'never edited once landed, so never split' },
];

const FUNCTION_EXCEPTIONS: readonly Exception[] = [
  { path: 'src/store/migrations/', reason: 'never edited once landed, so never split' },
];

const excepted = (exceptions: readonly Exception[], path: string) =>
  exceptions.some((e) => (e.path.endsWith('/') ? path.startsWith(e.path) : path === e.path));

/** Lines from the first to the last, as an editor numbers them. */
function lineSpan(source: ts.SourceFile, start: number, end: number): number {
  const first = source.getLineAndCharacterOfPosition(start).line;
  const last = source.getLineAndCharacterOfPosition(end).line;
  return last - first + 1;
}

type FunctionNode =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression
  | ts.ConstructorDeclaration
  | ts.AccessorDeclaration;

function isFunction(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isAccessor(node)
  );
}

/** What a reader would call a function: its name, the name it is bound to, or the call it is given to. */
function functionName(node: FunctionNode, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name)
    return parent.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (ts.isCallExpression(parent))
    return `a function given to ${parent.expression.getText(source).split('\n')[0]}()`;
  return 'an anonymous function';
}

interface MeasuredFunction {
  readonly name: string;
  readonly line: number;
  readonly lines: number;
}

interface Measured {
  readonly path: string;
  readonly lines: number;
  readonly functions: readonly MeasuredFunction[];
}

/** Every function of a source file, nested ones too, from its first line to its last. */
function functionsIn(source: ts.SourceFile): MeasuredFunction[] {
  const functions: MeasuredFunction[] = [];
  const visit = (node: ts.Node) => {
    if (isFunction(node))
      functions.push({
        name: functionName(node, source),
        line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
        lines: lineSpan(source, node.getStart(source), node.getEnd()),
      });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return functions;
}

function measure(path: string): Measured {
  const text = readFileSync(path, 'utf8');
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  return { path: path.split(sep).join('/'), lines, functions: functionsIn(source) };
}

const measured = files(SRC).map(measure);

/** The README's "How it holds together", where the exceptions are named with their reasons. */
function houseSection(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## How it holds together');
  const end = readme.indexOf('\n## ', start + 1);
  // One line, so a phrase that wraps in the Markdown is still found.
  return readme.slice(start, end).replace(/\s+/g, ' ');
}

describe('the size of src/', () => {
  it(`has no file over ${MAX_FILE_LINES} lines but the named exceptions`, () => {
    expect(measured.length).toBeGreaterThan(100);
    const over = measured
      .filter((file) => file.lines > MAX_FILE_LINES && !excepted(FILE_EXCEPTIONS, file.path))
      .map((file) => `${file.path}: ${file.lines} lines`);
    expect(over).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines but the named exceptions`, () => {
    expect(measured.some((file) => file.functions.length > 0)).toBe(true);
    const over = measured
      .filter((file) => !excepted(FUNCTION_EXCEPTIONS, file.path))
      .flatMap((file) =>
        file.functions
          .filter((f) => f.lines > MAX_FUNCTION_LINES)
          .map((f) => `${file.path}:${f.line} ${f.name}: ${f.lines} lines`),
      );
    expect(over).toEqual([]);
  });

  it('counts a long arrow given to a call (a route handler, a command action) as a function', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `app.post('/x', async () => {\n${body}\n});\n`;
    const source = ts.createSourceFile('probe.ts', text, ts.ScriptTarget.Latest, true);
    expect(functionsIn(source)).toEqual([
      { name: 'a function given to app.post()', line: 1, lines: MAX_FUNCTION_LINES + 2 },
    ]);
  });

  it('names every exception in the README, and keeps none that is no longer needed', () => {
    const section = houseSection();
    for (const exception of [...FILE_EXCEPTIONS, ...FUNCTION_EXCEPTIONS]) {
      expect(section, `the README names ${exception.path}`).toContain(
        `\`${exception.path.replace(/\/$/, '')}`,
      );
      expect(section, `the README gives the reason for ${exception.path}`).toContain(exception.reason);
    }
    // A folder names a kind of file (migrations); a file is named for being long, until it is not.
    const named = (exceptions: readonly Exception[]) => exceptions.filter((e) => !e.path.endsWith('/'));
    const stale = [
      ...named(FILE_EXCEPTIONS).filter(
        (e) => !measured.some((file) => file.path === e.path && file.lines > MAX_FILE_LINES),
      ),
      ...named(FUNCTION_EXCEPTIONS).filter(
        (e) =>
          !measured.some(
            (file) => file.path === e.path && file.functions.some((f) => f.lines > MAX_FUNCTION_LINES),
          ),
      ),
    ].map((e) => e.path);
    expect(stale).toEqual([]);
  });
});
