import { readFileSync } from 'node:fs';
import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { SignoffError } from './core/errors.js';
import { ajv } from './validation.js';

/** "(line 12)" for a path into the YAML document, when the document knows it. */
function lineOf(source: string, path: (string | number)[]): string {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines });
  let node: unknown = doc.contents;
  for (const key of path) {
    if (isMap(node) || isSeq(node)) node = node.get(key, true);
    else break;
  }
  const offset = (node as { range?: [number] } | undefined)?.range?.[0];
  return offset === undefined ? '' : ` (line ${lines.linePos(offset).line})`;
}

function describeError(source: string, error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const path = error.instancePath || '/';
  const extra = error.params.additionalProperty ? ` "${String(error.params.additionalProperty)}"` : '';
  const message =
    error.keyword === 'discriminator'
      ? `${String(error.params.tag)} "${String(error.params.tagValue)}" is not one of the known kinds`
      : (error.message ?? 'is invalid');
  return `${path}${lineOf(source, segments)}: ${message}${extra}`;
}

/** A mistake the schema cannot see (say, a bad expression), at a path into the document. */
export interface DocumentIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Parses a YAML (or JSON) configuration document and checks it against `schema`; every
 * mistake is reported with its path and line, e.g. `/rules/1/permissions/0 (line 8): …`.
 */
export function parseConfigDocument<S extends TSchema>(
  source: string,
  origin: string,
  schema: S,
  what: string,
  check?: (value: Static<S>) => DocumentIssue[],
): Static<S> {
  const doc = parseDocument(source);
  if (doc.errors.length > 0)
    throw new SignoffError('invalid_input', `${origin}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const value: unknown = doc.toJS() ?? {};
  const validate = ajv.compile<Static<S>>(schema);
  if (!validate(value)) {
    const problems = (validate.errors ?? []).slice(0, 10).map((e) => `  ${describeError(source, e)}`);
    throw new SignoffError('invalid_input', `${origin} is not a valid ${what}:\n${problems.join('\n')}`);
  }
  const issues = check?.(value) ?? [];
  if (issues.length > 0) {
    const problems = issues.slice(0, 10).map((issue) => {
      const path = `/${issue.path.join('/')}`;
      return `  ${path}${lineOf(source, [...issue.path])}: ${issue.message}`;
    });
    throw new SignoffError('invalid_input', `${origin} is not a valid ${what}:\n${problems.join('\n')}`);
  }
  return value;
}

/** Reads a configuration file named by an environment variable, saying which one on failure. */
export function readConfigFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new SignoffError('invalid_input', `${variable}: cannot read ${path}.`, { cause: error });
  }
}
