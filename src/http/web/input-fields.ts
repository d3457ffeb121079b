import { type InputField, type InputSchema, inputLabel } from '../../core/inputs.js';
import { html, type SafeHtml } from '../../html.js';

/*
 * The form fields of a stage's inputs, named `input.NAME`. No field is marked `required` in
 * HTML: Reject must post without them. The server checks every value (and says what is wrong
 * in the same words as the API), so the browser's checks are only a convenience.
 */

function control(id: string, name: string, field: InputField, hint: string | null): SafeHtml {
  const described = hint ? html` aria-describedby="${id}-hint"` : '';
  const value = field.default === undefined ? '' : String(field.default);
  if (field.type === 'boolean')
    return html`<input id="${id}" name="input.${name}" type="checkbox" value="true"${field.default === true ? html` checked` : ''}${described}>`;
  if (field.enum)
    return html`<select id="${id}" name="input.${name}"${described}><option value="">Choose…</option>${field.enum.map(
      (option) =>
        html`<option value="${option}"${option === value ? html` selected` : ''}>${option}</option>`,
    )}</select>`;
  if (field.type === 'number' || field.type === 'integer')
    return html`<input id="${id}" name="input.${name}" type="number" inputmode="decimal" step="${field.type === 'integer' ? '1' : 'any'}"${field.minimum === undefined ? '' : html` min="${field.minimum}"`}${field.maximum === undefined ? '' : html` max="${field.maximum}"`} value="${value}"${described}>`;
  const type = field.format === 'date' ? 'date' : 'text';
  return html`<input id="${id}" name="input.${name}" type="${type}"${field.maxLength === undefined ? '' : html` maxlength="${field.maxLength}"`} value="${value}"${described}>`;
}

/** The inputs a stage asks for, as labelled form fields; nothing when it asks for none. */
export function inputFields(schema: InputSchema | undefined): SafeHtml | '' {
  if (!schema) return '';
  const fields = Object.entries(schema.properties).map(([name, field]) => {
    const id = `input-${name}`;
    const required = schema.required?.includes(name) ? ' (required to approve)' : '';
    const hint = field.description ?? (field.pattern ? `Must match ${field.pattern}` : null);
    const label = html`<label for="${id}">${inputLabel(name, field)}${required}</label>`;
    const help = hint ? html`<p class="muted hint" id="${id}-hint">${hint}</p>` : '';
    return field.type === 'boolean'
      ? html`<div class="input check">${control(id, name, field, hint)} ${label}${help}</div>`
      : html`<div class="input">${label}${control(id, name, field, hint)}${help}</div>`;
  });
  return html`<fieldset class="inputs"><legend>What the pipeline needs from you</legend>${fields}</fieldset>`;
}
