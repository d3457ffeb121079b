import { Ajv } from 'ajv';

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
