import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import { SignoffError } from '../core/errors.js';
import { findUnacceptableText } from '../input-rules.js';
import { compileOnFirstUse } from '../validation.js';
import { describeSchemaErrors, type SchemaError } from '../validation-messages.js';

/**
 * Validates requests with the shared Ajv. Bodies are taken as sent: no type coercion,
 * unknown fields refused (Fastify's default would silently strip them). Query strings and
 * params arrive as text, so their numbers and booleans are converted per schema first
 * (one Ajv cannot coerce for some parts and not for others). Then every string of every
 * part, wherever the schema puts it (metadata included), is checked for control characters
 * and lone surrogates, so a field added later is covered too. A route's schemas are compiled
 * on its first request, not when the app is built: a process answers few of its routes.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  return ({ schema, httpPart }) => {
    const validate = compileOnFirstUse(schema as object);
    const prepare =
      httpPart === 'body'
        ? // A POST without a body (Fastify passes null) is an empty object: `POST /cancel` needs no `{}`.
          (input: unknown) => (input === undefined || input === null ? {} : input)
        : describesNonText(schema)
          ? (input: unknown) => convertText(schema as TSchema, input)
          : // Text that should stay text (an id, a token): nothing to convert on every request.
            (input: unknown) => input;
    return (input: unknown) => {
      const data = prepare(input);
      if (!validate(data)) return { error: validationError(validate.errors ?? [], schema, httpPart) };
      const text = findUnacceptableText(data);
      if (!text) return { value: data };
      return {
        error: validationError(
          [
            {
              keyword: 'unacceptableText',
              instancePath: text.path,
              schemaPath: '#',
              message: text.problem,
              params: {},
            },
          ],
          schema,
          httpPart,
        ),
      };
    };
  };
}

/** What text of a query or path may have to become: TypeBox's conversion knows these. */
const NON_TEXT_TYPES: readonly unknown[] = ['integer', 'number', 'boolean', 'null', 'array'];

/**
 * Whether a schema describes anything but text anywhere (or refers elsewhere, which is not
 * followed here): only then is text converted.
 */
function describesNonText(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const { type, $ref } = schema as { type?: unknown; $ref?: unknown };
  if ($ref !== undefined || [type].flat().some((t) => NON_TEXT_TYPES.includes(t))) return true;
  return Object.values(schema).some(describesNonText);
}

/**
 * Query and params values as the schema's types ("5" to 5, "true" to true), but only when the
 * text is exactly that value: TypeBox would read "2.5" or "2abc" as the integer 2, and such a
 * value must be refused, not truncated.
 */
function convertText(schema: TSchema, input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const text = input as Record<string, unknown>;
  // Value.Convert changes what it is given; convert a copy.
  const converted = Value.Convert(schema, { ...text }) as Record<string, unknown>;
  for (const [key, value] of Object.entries(text)) {
    if (typeof value === 'string' && String(converted[key]) !== value) converted[key] = value;
  }
  return converted;
}

const PART_NAMES: Record<string, string> = { querystring: 'query', params: 'path', headers: 'headers' };

/**
 * The refusal of an input: every problem in `details.issues`, told for people (never a raw
 * schema pattern), the first few in the message.
 */
function validationError(errors: readonly SchemaError[], schema: unknown, part: string | undefined): Error {
  const where = part ?? 'input';
  const issues = describeSchemaErrors(errors, schema, PART_NAMES[where] ?? where);
  const shown = issues.slice(0, 3).map((i) => i.message);
  const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more (see details)` : '';
  return new SignoffError('invalid_input', `${shown.join('; ') || `${where} is not valid`}${more}.`, {
    details: { in: PART_NAMES[where] ?? where, issues },
  });
}
