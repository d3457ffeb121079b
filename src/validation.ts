import { Ajv, type ErrorObject, type Schema, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import { ACTION_LIMITS, isSingleLine, metadataProblem, SINGLE_LINE } from './input-rules.js';

/**
 * The one Ajv every schema in signoff compiles with: request bodies and query strings,
 * configuration files, AWS messages and AI answers.
 *
 * - `allErrors`: a validator reports every problem, so a mistake in a file or a request can
 *   be told in full. Every input it sees is bounded first (the body limit, the SNS body
 *   limit, the AI answer limit), which bounds the number of errors too.
 * - `coerceTypes: false`: JSON and YAML values have their types; a string never becomes a
 *   number. Query strings and path parameters are text, and are converted per schema
 *   before they are validated (see `http/validation.ts`).
 * - `removeAdditional: false`: an unknown field is refused where a schema says so, never
 *   silently dropped.
 * - `useDefaults`, `discriminator`: defaults are filled in; a `oneOf` picked by a tag
 *   (policy stages) is checked against the kind that was meant.
 */
export const ajv = new Ajv({
  allErrors: true,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: true,
  discriminator: true,
});

// What signoff's schemas say beyond JSON Schema: a string of one line, and the bounds of a
// request's metadata (JSON Schema can neither count keys across levels nor measure size).
ajv.addFormat(SINGLE_LINE, { type: 'string', validate: isSingleLine });
// The API's timestamps (as its responses describe them): ISO 8601 in UTC, as toISOString writes.
ajv.addFormat('date-time', {
  type: 'string',
  validate: (text: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) && !Number.isNaN(Date.parse(text)),
});

const checkMetadata: SchemaValidateFunction = (enabled: boolean, data: unknown) => {
  const problem = enabled ? metadataProblem(data) : undefined;
  checkMetadata.errors = problem ? [{ keyword: 'metadataLimits', message: problem, params: {} }] : [];
  return !problem;
};
ajv.addKeyword({
  keyword: 'metadataLimits',
  type: 'object',
  schemaType: 'boolean',
  errors: true,
  validate: checkMetadata,
});

const checkAction: SchemaValidateFunction = (enabled: boolean, data: unknown) => {
  const problem = enabled ? metadataProblem(data, ACTION_LIMITS) : undefined;
  checkAction.errors = problem ? [{ keyword: 'actionLimits', message: problem, params: {} }] : [];
  return !problem;
};
ajv.addKeyword({
  keyword: 'actionLimits',
  type: 'object',
  schemaType: 'boolean',
  errors: true,
  validate: checkAction,
});

/** A validator as callers use one: a type guard that keeps the errors of its last call. */
export interface Validator<T> {
  (data: unknown): data is T;
  readonly errors: ErrorObject[] | null | undefined;
}

/**
 * A validator compiled by the shared Ajv the first time it is called, not when its module is
 * loaded: loading the server would otherwise compile the schemas of every intake, tool and
 * answer, which most processes never see.
 */
export function compileOnFirstUse<T = unknown>(schema: Schema): Validator<T> {
  let compiled: ValidateFunction<T> | undefined;
  const validate = (data: unknown): data is T => {
    compiled ??= ajv.compile<T>(schema);
    return compiled(data);
  };
  return Object.defineProperty(validate, 'errors', { get: () => compiled?.errors }) as Validator<T>;
}
