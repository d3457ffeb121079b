import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Bodies are validated strictly: no type coercion, unknown fields refused (Fastify's
 * default would silently strip them). Query strings and params arrive as text, so
 * there numbers and booleans are coerced.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = new Ajv({
    allErrors: false,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    discriminator: true,
  });
  const coercing = new Ajv({
    allErrors: false,
    coerceTypes: true,
    removeAdditional: false,
    useDefaults: true,
    discriminator: true,
  });
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? strict : coercing).compile(schema as object);
    return (input: unknown) => {
      // A POST without a body (Fastify passes null) is an empty object: `POST /cancel` needs no `{}`.
      const data = httpPart === 'body' && (input === undefined || input === null) ? {} : input;
      return validate(data) ? { value: data } : { error: validationError(validate.errors, httpPart) };
    };
  };
}

function validationError(
  errors: { instancePath: string; message?: string; params: Record<string, unknown> }[] | null | undefined,
  part: string | undefined,
): Error {
  const first = errors?.[0];
  const where = `${part ?? 'input'}${first?.instancePath ?? ''}`;
  let message = first?.message ?? 'is invalid';
  if (first?.params.additionalProperty)
    message = `has an unknown field "${String(first.params.additionalProperty)}"`;
  const error = new Error(`${where} ${message}`) as Error & { validation: unknown; statusCode: number };
  error.validation = errors;
  error.statusCode = 400;
  return error;
}
