import { sha256Hex } from '../auth/secrets.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { BoundAction, Policy } from '../core/model.js';

/** The hash that binds a decision to an action: `sha256:` and the hex SHA-256 of its RFC 8785 form. */
export function actionHash(content: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(content))}`;
}

/** A hash of a whole policy, as an approval holds it: a standing grant holds for that gate only. */
export function policyHash(policy: Policy): string {
  return actionHash(policy);
}

/** An action as an approval keeps it: what was asked, and its hash. */
export function bindAction(content: Readonly<Record<string, unknown>>): BoundAction {
  return { content, hash: actionHash(content) };
}

/** A title of one line for an agent's tool call: the tool and the gist of its arguments. */
export function toolCallTitle(tool: string, input: Readonly<Record<string, unknown>>): string {
  const gist = input.command ?? input.file_path ?? input.url ?? input.path ?? JSON.stringify(input);
  const line = `${tool}: ${typeof gist === 'string' ? gist : JSON.stringify(gist)}`.replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu,
    ' ',
  );
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
