import type { Verdict } from './model.js';

/*
 * What an approver fills in when deciding: a small subset of JSON Schema (strings with an enum
 * or a pattern, dates, numbers with bounds, booleans; required; default; description). The one
 * check below runs in the decision path, so every channel refuses the same values with the
 * same words; the forms of the page, the link page and Slack are drawn from the same schema.
 */

export type InputValue = string | number | boolean;

export interface InputField {
  readonly type: 'string' | 'number' | 'integer' | 'boolean';
  readonly title?: string | undefined;
  readonly description?: string | undefined;
  readonly enum?: readonly string[] | undefined;
  readonly pattern?: string | undefined;
  /** `date`: YYYY-MM-DD. */
  readonly format?: 'date' | undefined;
  readonly maxLength?: number | undefined;
  readonly minimum?: number | undefined;
  readonly maximum?: number | undefined;
  readonly default?: InputValue | undefined;
}

export interface InputSchema {
  readonly properties: Readonly<Record<string, InputField>>;
  readonly required?: readonly string[] | undefined;
}

export type InputValues = Readonly<Record<string, InputValue>>;

/** One problem with one input, worded for the person who filled it in. */
export interface InputProblem {
  readonly field: string;
  readonly message: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a real calendar date written YYYY-MM-DD. */
function isDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const at = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().startsWith(text);
}

/** The field's label for people: its title, else its name. */
export function inputLabel(name: string, field: InputField): string {
  return field.title ?? name;
}

function bounds(field: InputField): string {
  const { minimum: min, maximum: max } = field;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

function checkNumber(label: string, field: InputField, value: unknown): string | null {
  const whole = field.type === 'integer';
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!whole || Number.isInteger(value)) &&
    (field.minimum === undefined || value >= field.minimum) &&
    (field.maximum === undefined || value <= field.maximum);
  return ok ? null : `${label} must be ${whole ? 'a whole number' : 'a number'}${bounds(field)}.`;
}

/** What is wrong with one value, or null. */
export function checkInputValue(name: string, field: InputField, value: unknown): string | null {
  const label = `"${inputLabel(name, field)}"`;
  if (field.type === 'boolean') return typeof value === 'boolean' ? null : `${label} must be yes or no.`;
  if (field.type === 'number' || field.type === 'integer') return checkNumber(label, field, value);
  if (typeof value !== 'string') return `${label} must be text.`;
  if (field.enum && !field.enum.includes(value)) return `${label} must be one of ${field.enum.join(', ')}.`;
  if (field.format === 'date' && !isDate(value)) return `${label} must be a date written YYYY-MM-DD.`;
  if (field.maxLength !== undefined && value.length > field.maxLength)
    return `${label} must be at most ${field.maxLength} characters.`;
  if (field.pattern && !new RegExp(field.pattern, 'u').test(value))
    return `${label} must match ${field.pattern}.`;
  return null;
}

export type InputCheck =
  | { readonly ok: true; readonly values: InputValues | null }
  | { readonly ok: false; readonly problems: readonly InputProblem[] };

/** One field: its value (or its default), a problem, or nothing when left out and not needed. */
function checkOne(
  name: string,
  field: InputField,
  value: unknown,
  needed: boolean,
): { value: InputValue } | string | undefined {
  if (value === undefined || value === '') {
    if (field.default !== undefined) return { value: field.default };
    return needed ? `"${inputLabel(name, field)}" is required to approve.` : undefined;
  }
  return checkInputValue(name, field, value) ?? { value: value as InputValue };
}

/**
 * Checks what an approver filled in against the stage's schema and adds defaults. Required
 * inputs are required to approve; a rejection may leave them out, but what it gives must be
 * valid. A stage without inputs takes none.
 */
export function checkInputs(
  schema: InputSchema | undefined,
  given: Readonly<Record<string, unknown>> | undefined,
  verdict: Verdict,
): InputCheck {
  const values = given ?? {};
  const unknown = Object.keys(values).filter((field) => !schema || !Object.hasOwn(schema.properties, field));
  const problems: InputProblem[] = unknown.map((field) => ({
    field,
    message: schema ? `There is no input "${field}".` : `This stage asks for no input "${field}".`,
  }));
  if (!schema) return problems.length > 0 ? { ok: false, problems } : { ok: true, values: null };
  const result: Record<string, InputValue> = {};
  for (const [name, field] of Object.entries(schema.properties)) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    const outcome = checkOne(
      name,
      field,
      value,
      verdict === 'approve' && schema.required?.includes(name) === true,
    );
    if (typeof outcome === 'string') problems.push({ field: name, message: outcome });
    else if (outcome !== undefined) result[name] = outcome.value;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values: result };
}

/** The one message for a refused set of inputs, the same on every channel. */
export function inputsMessage(problems: readonly InputProblem[]): string {
  return problems.map((p) => p.message).join(' ');
}

/**
 * Form fields (the page, the link page, Slack) arrive as text: a number field's "3" becomes
 * 3 and a checkbox's "true"/"on" becomes true, so the check above judges typed values. What
 * does not convert stays text and is refused by the check in the same words as over the API.
 */
export function inputsFromForm(
  schema: InputSchema | undefined,
  form: Readonly<Record<string, string | undefined>>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  if (!schema) return values;
  for (const [name, field] of Object.entries(schema.properties)) {
    const raw = Object.hasOwn(form, name) ? form[name] : undefined;
    if (field.type === 'boolean') {
      // An unticked checkbox sends nothing: that is "no", not "not given".
      values[name] = raw === 'true' || raw === 'on';
      continue;
    }
    if (raw === undefined || raw.trim() === '') continue;
    const text = raw.trim();
    const number = Number(text);
    values[name] =
      (field.type === 'number' || field.type === 'integer') && text !== '' && Number.isFinite(number)
        ? number
        : text;
  }
  return values;
}

/**
 * The inputs of a decided approval for the waiting side: approving decisions' values, merged
 * in the order they were made (a later approver's value wins); each decision keeps its own.
 */
export function mergedInputs(
  decisions: readonly { readonly verdict: Verdict; readonly inputs: InputValues | null }[],
): Record<string, InputValue> {
  const merged: Record<string, InputValue> = {};
  for (const d of decisions) if (d.verdict === 'approve' && d.inputs) Object.assign(merged, d.inputs);
  return merged;
}

/** "environment=production, replicas=3" for one-line summaries (CodePipeline, GitHub). */
export function inputsLine(values: Readonly<Record<string, InputValue>>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(', ');
}
