import { Type } from '@sinclair/typebox';
import { SINGLE_LINE } from '../../../input-rules.js';

/** One line of text, at most `maxLength` characters: what a form field or a path part may hold. */
export const Line = (maxLength: number) => Type.String({ maxLength, format: SINGLE_LINE });

/** The CSRF token every form posts. */
export const Csrf = Type.String({ minLength: 1, maxLength: 200 });

export const Verdict = Type.Union([Type.Literal('approve'), Type.Literal('reject')]);

/** An id in the path: an approval's (`/approvals/{id}…`) or a grant's (`/grants/{id}/revoke`). */
export const IdParams = Type.Object({ id: Line(64) });
