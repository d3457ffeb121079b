import { startWebSession } from '../../src/sessions/web-sessions.js';
import type { Harness } from './harness.js';

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** HTML's entities as signoff escapes them (`src/html.ts`), back to the characters they stand for. */
export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

/** The text of an approval's page as a signed-in person reads it: tags dropped, entities decoded. */
export async function approvalPageText(h: Harness, actor: string, id: string): Promise<string> {
  const session = await startWebSession(h.signoff.services, { actor, groups: [], grants: [] });
  const page = await h.signoff.app.inject({
    method: 'GET',
    url: `/approvals/${id}`,
    cookies: { signoff: session },
  });
  return decodeEntities(page.body.replace(/<[^>]+>/g, ''));
}
