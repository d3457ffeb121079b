import type { ErrorObject } from 'ajv';
import { SINGLE_LINE, SINGLE_LINE_RULE } from './input-rules.js';

/** One problem of an input, told to a person: where (a JSON pointer) and what is expected. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

/** The parts of an Ajv error this module reads (the control-character check makes its own). */
export type SchemaError = Pick<ErrorObject, 'keyword' | 'instancePath' | 'schemaPath' | 'params'> & {
  message?: string | undefined;
};

type Schema = Record<string, unknown>;

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** "/stages/0/gates/1/approvers" as "stages[0].gates[1].approvers"; the part's name for the root. */
export function fieldName(root: string, instancePath: string, child?: string): string {
  const segments = instancePath.split('/').slice(1);
  if (child !== undefined) segments.push(child);
  if (segments.length === 0) return root;
  return segments
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((name, s, i) => (/^\d+$/.test(s) ? `${name}[${s}]` : i === 0 ? s : `${name}.${s}`), '');
}

/** The sub-schema a schema path ("#/properties/timeout/anyOf") points at, if it can be followed. */
function schemaAt(root: unknown, schemaPath: string): Schema | undefined {
  let node: unknown = root;
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null ? (node as Schema) : undefined;
}

const list = (values: unknown[]) => values.map((v) => String(v)).join(', ');

/** The values an `anyOf` of constants allows, or undefined when it allows more than constants. */
function constants(branches: unknown): unknown[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const values = branches.map((b) => (b as Schema).const);
  return values.every((v) => v !== undefined) ? values : undefined;
}

/** For a union of objects told apart by a constant `type`, the `type` each branch has. */
function tags(branches: unknown): unknown[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const values = branches.map(
    (b) => ((b as Schema).properties as Record<string, Schema> | undefined)?.type?.const,
  );
  return values.every((v) => v !== undefined) ? values : undefined;
}

function withArticle(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/** One error as a sentence that names the field and says what is expected; never a raw pattern. */
function sentence(error: SchemaError, root: string, schema: unknown): string {
  const field = fieldName(root, error.instancePath);
  const params = error.params as Record<string, unknown>;
  const own = schemaAt(schema, error.schemaPath.replace(/\/[^/]*$/, ''));
  const described = typeof own?.description === 'string' ? own.description : undefined;
  switch (error.keyword) {
    case 'required':
      return `${fieldName(root, error.instancePath, String(params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${field} has an unknown field "${String(params.additionalProperty)}"`;
    case 'type':
      return `${field} must be ${TYPE_WORDS[String(params.type)] ?? String(params.type)}`;
    case 'minLength':
      return params.limit === 1
        ? `${field} must not be empty`
        : `${field} must be at least ${params.limit} characters long`;
    case 'maxLength':
      return `${field} must be at most ${params.limit} characters long`;
    case 'minimum':
      return `${field} must be at least ${params.limit}`;
    case 'maximum':
      return `${field} must be at most ${params.limit}`;
    case 'exclusiveMinimum':
      return `${field} must be more than ${params.limit}`;
    case 'exclusiveMaximum':
      return `${field} must be less than ${params.limit}`;
    case 'minItems':
      return params.limit === 1
        ? `${field} must list at least one item`
        : `${field} must list at least ${params.limit} items`;
    case 'maxItems':
      return `${field} must list at most ${params.limit} items`;
    case 'minProperties':
      return `${field} must have at least ${params.limit} fields`;
    case 'maxProperties':
      return `${field} must have at most ${params.limit} fields`;
    case 'pattern':
      return described ? `${field} must be ${described}` : `${field} is not in the expected form`;
    case 'format':
      if (params.format === SINGLE_LINE) return `${field} must be ${SINGLE_LINE_RULE}`;
      return `${field} must be ${described ?? withArticle(String(params.format))}`;
    case 'const':
      return `${field} must be "${String(params.allowedValue)}"`;
    case 'enum':
      return `${field} must be one of ${list(params.allowedValues as unknown[])}`;
    case 'discriminator': {
      const tag = String(params.tag);
      const kinds = (schemaAt(schema, error.schemaPath.replace(/\/discriminator$/, ''))?.oneOf ??
        []) as Schema[];
      const allowed = kinds.map((k) => (k.properties as Record<string, Schema> | undefined)?.[tag]?.const);
      return params.error === 'tag' && params.tagValue === undefined
        ? `${fieldName(root, error.instancePath, tag)} is required`
        : `${fieldName(root, error.instancePath, tag)} must be one of ${list(allowed)}`;
    }
    case 'oneOf':
    case 'anyOf':
      return `${field} must be ${described ?? 'one of the forms it allows'}`;
    default:
      // Our own keywords (metadata limits, control characters) write their message for a person.
      return `${field} ${error.message ?? 'is not valid'}`;
  }
}

/** A union no branch matched, as one problem: by the kinds `type` names, its description or its constants. */
function unionMessage(
  union: SchemaError,
  unionSchema: Schema | undefined,
  kinds: unknown[] | undefined,
  root: string,
  schema: unknown,
): string {
  const field = fieldName(root, union.instancePath);
  const allowed = constants(unionSchema?.anyOf);
  if (kinds) return `${fieldName(root, union.instancePath, 'type')} must be one of ${list(kinds)}`;
  if (typeof unionSchema?.description === 'string') return `${field} must be ${unionSchema.description}`;
  if (allowed) return `${field} must be one of ${list(allowed)}`;
  return sentence(union, root, schema);
}

/**
 * The errors left once a union is told: when `type` names the kind that was meant, that
 * kind's own errors stay and tell what is wrong; otherwise the union is one problem (its
 * message) and its branches' errors go.
 */
function tellUnion(
  union: SchemaError,
  remaining: readonly SchemaError[],
  schema: unknown,
  root: string,
): { remaining: SchemaError[]; message?: string } {
  const prefix = `${union.schemaPath}/`;
  const branches = remaining.filter((e) => e.schemaPath.startsWith(prefix));
  const unionSchema = schemaAt(schema, union.schemaPath.replace(/\/anyOf$/, ''));
  const kinds = tags(unionSchema?.anyOf);
  const meant = kinds?.findIndex(
    (_, i) =>
      !branches.some(
        (e) =>
          e.schemaPath === `${prefix}${i}/properties/type/const` ||
          (e.schemaPath === `${prefix}${i}/required` && e.params.missingProperty === 'type'),
      ),
  );
  if (kinds && meant !== undefined && meant >= 0)
    return {
      remaining: remaining.filter(
        (e) =>
          e !== union && !(e.schemaPath.startsWith(prefix) && !e.schemaPath.startsWith(`${prefix}${meant}/`)),
      ),
    };
  return {
    remaining: remaining.filter((e) => e !== union && !e.schemaPath.startsWith(prefix)),
    message: unionMessage(union, unionSchema, kinds, root, schema),
  };
}

/**
 * Ajv's errors as sentences for people, every problem once ("timeout must be a duration like
 * 90s, 15m, 1h or 7d", "callback.url must be an http(s) URL …"). A union is told as one
 * problem: by its description, the constants it allows, or — for objects told apart by
 * `type` — by the errors of the kind that was meant. `schema` is the one that was compiled;
 * `root` names the input as a whole ("body", "query").
 */
export function describeSchemaErrors(
  errors: readonly SchemaError[],
  schema: unknown,
  root: string,
): InputIssue[] {
  let remaining = [...errors];
  const unions = remaining
    .filter((e) => e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  const told: { error: SchemaError; message: string }[] = [];
  for (const union of unions) {
    if (!remaining.includes(union)) continue;
    const outcome = tellUnion(union, remaining, schema, root);
    remaining = outcome.remaining;
    if (outcome.message !== undefined) told.push({ error: union, message: outcome.message });
  }
  // A value that does not look like what is described is told that way, not also as too short.
  const described = new Set(remaining.filter((e) => e.keyword === 'pattern').map((e) => e.instancePath));
  remaining = remaining.filter((e) => !(e.keyword === 'minLength' && described.has(e.instancePath)));
  const all = [...told, ...remaining.map((error) => ({ error, message: sentence(error, root, schema) }))];
  const seen = new Set<string>();
  const issues: InputIssue[] = [];
  // In the order Ajv found them, which follows the schema's fields.
  for (const { error, message } of all.sort((a, b) => errors.indexOf(a.error) - errors.indexOf(b.error))) {
    if (seen.has(message)) continue;
    seen.add(message);
    const missing = error.keyword === 'required' ? `/${String(error.params.missingProperty)}` : '';
    issues.push({ path: `${error.instancePath}${missing}` || '/', message });
  }
  return issues;
}
