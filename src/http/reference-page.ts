import { escapeHtml } from '../html.js';

/** The parts of an OpenAPI 3.1 document the reference page shows. */
interface Schema {
  readonly type?: string | string[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly description?: string;
  readonly format?: string;
}
interface Operation {
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly security?: readonly unknown[];
  readonly parameters?: readonly {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: Schema;
  }[];
  readonly requestBody?: { content?: Record<string, { schema?: Schema }> };
  readonly responses?: Record<
    string,
    { description?: string; content?: Record<string, { schema?: Schema }> }
  >;
}
export interface ReferenceDocument {
  readonly info: { title: string; version: string; description?: string };
  readonly tags?: readonly { name: string; description?: string }[];
  readonly paths?: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
}

/** Marks text as HTML already; everything else put into `html` is escaped. */
class Html {
  constructor(readonly text: string) {}
}

/** A template tag that escapes every value unless it is Html (or a list of Html). */
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const piece = (value: unknown): string =>
    value instanceof Html
      ? value.text
      : Array.isArray(value)
        ? value.map(piece).join('')
        : value === undefined || value === null || value === false
          ? ''
          : escapeHtml(value);
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? piece(values[i]) : ''), ''));
}

/** A schema in a few words: "string", "\"approve\" | \"reject\"", "array of string". */
function typeOf(schema: Schema | undefined): string {
  if (!schema) return '';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(typeOf).join(' | ');
  if (schema.type === 'array') return `array of ${typeOf(schema.items)}`;
  const type = [schema.type ?? 'any'].flat().join(' | ');
  return schema.format && !schema.format.startsWith('signoff') ? `${type} (${schema.format})` : type;
}

function fields(schema: Schema | undefined): Html {
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) return html`<p><code>${typeOf(schema)}</code></p>`;
  const required = new Set(schema?.required ?? []);
  return html`<table><tr><th>field</th><th>type</th><th>about</th></tr>${properties.map(
    ([name, field]) =>
      html`<tr><td><code>${name}</code>${required.has(name) ? html` <small>required</small>` : ''}</td><td><code>${typeOf(field)}</code></td><td>${field.description}</td></tr>`,
  )}</table>`;
}

function errorCodes(schema: Schema | undefined): string[] {
  const code = schema?.properties?.error?.properties?.code;
  if (!code) return [];
  return (code.anyOf ?? [code])
    .flatMap((c) => (c.const !== undefined ? [c.const] : (c.enum ?? [])))
    .map(String);
}

function operation(path: string, method: string, op: Operation): Html {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const body = op.requestBody?.content?.['application/json']?.schema;
  const responses = Object.entries(op.responses ?? {}).map(([status, response]) => {
    const schema = response.content?.['application/json']?.schema;
    const codes = errorCodes(schema);
    return html`<tr><td>${status}</td><td>${
      codes.length > 0
        ? codes.map((c, i) => html`${i > 0 ? ', ' : ''}<code>${c}</code>`)
        : html`<code>${typeOf(schema)}</code>`
    }</td></tr>`;
  });
  return html`<section id="${id}"><h3><span class="method">${method.toUpperCase()}</span> <code>${path}</code></h3>
<p>${op.summary}${op.security?.length ? html` <small>needs a bearer credential</small>` : ''}</p>${op.description ? html`<p>${op.description}</p>` : ''}
${
  op.parameters?.length
    ? html`<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>about</th></tr>${op.parameters.map(
        (p) =>
          html`<tr><td><code>${p.name}</code>${p.required ? html` <small>required</small>` : ''}</td><td>${p.in}</td><td><code>${typeOf(p.schema)}</code></td><td>${p.description ?? p.schema?.description}</td></tr>`,
      )}</table>`
    : ''
}${body ? html`<h4>Body</h4>${fields(body)}` : ''}
<h4>Responses</h4><table><tr><th>status</th><th>body, or error codes</th></tr>${responses}</table></section>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #8884;padding:.3em .5em;text-align:left;vertical-align:top}
code{overflow-wrap:anywhere}.method{font-family:monospace;background:#0969da;color:#fff;padding:.1em .4em;border-radius:4px}
section{border-top:1px solid #8884;margin-top:1.5em}@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}a{color:#58a6ff}}`;

/** The API reference as one page, made from the OpenAPI document: no script, nothing from elsewhere. */
export function renderReference(doc: ReferenceDocument): string {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  const byTag = (doc.tags ?? []).map((tag) => ({
    tag,
    ops: operations.filter((o) => o.op.tags?.includes(tag.name)),
  }));
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${doc.info.title} API reference</title><style>${new Html(STYLE)}</style></head><body><main>
<h1>${doc.info.title} ${doc.info.version} API reference</h1><p>${doc.info.description}</p>
<p>The machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<nav><ul>${operations.map((o) => html`<li><a href="#${`${o.method}-${o.path}`.replace(/[^A-Za-z0-9]+/g, '-')}">${o.method.toUpperCase()} ${o.path}</a> — ${o.op.summary}</li>`)}</ul></nav>
${byTag.map(({ tag, ops }) => html`<h2>${tag.name}</h2><p>${tag.description}</p>${ops.map((o) => operation(o.path, o.method, o.op))}`)}
</main></body></html>`;
  return page.text;
}
