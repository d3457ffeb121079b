import { sha256Hex } from '../auth/secrets.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { BoundAction } from '../core/model.js';

/** The hash that binds a decision to an action: `sha256:` and the hex SHA-256 of its RFC 8785 form. */
export function actionHash(content: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(content))}`;
}

/** An action as an approval keeps it: what was asked, and its hash. */
export function bindAction(content: Readonly<Record<string, unknown>>): BoundAction {
  return { content, hash: actionHash(content) };
}
