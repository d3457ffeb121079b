import { SignoffError } from '../core/errors.js';
import type { EvidenceRequest } from './evidence.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
// An instant names its zone: a period an auditor is handed must not depend on where it ran.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 24 * 3600 * 1000;

/** A day (UTC midnight) or an instant; undefined when it is neither, or no such date. */
function parseBound(text: string): { at: Date; day: boolean } | undefined {
  const day = DAY.test(text);
  if (!day && !INSTANT.test(text)) return undefined;
  const at = new Date(day ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(at.getTime())) return undefined;
  // 2026-02-30 parses as March 2nd: only a date that reads back as written is one.
  if (day && at.toISOString().slice(0, 10) !== text) return undefined;
  return { at, day };
}

/** The problem with one bound, as the API reports problems. */
function issue(path: string, message: string) {
  return { path, message };
}

/**
 * The period and sample an evidence pack is asked for. `from` and `to` are days
 * (`2026-10-01`, UTC) or instants with a zone; a day as `to` counts whole, so
 * `--from 2026-10-01 --to 2026-12-31` is the fourth quarter. An instant as `to` is where the
 * period ends, not in it. Throws `invalid_input` naming every problem.
 */
export function evidenceRequest(input: {
  readonly from: string;
  readonly to: string;
  readonly sample?: number | undefined;
  readonly seed?: string | undefined;
}): EvidenceRequest {
  const from = parseBound(input.from);
  const to = parseBound(input.to);
  const issues = [
    ...(from ? [] : [issue('/from', 'from must be a day like 2026-10-01 or an ISO time with its zone')]),
    ...(to ? [] : [issue('/to', 'to must be a day like 2026-12-31 or an ISO time with its zone')]),
  ];
  const end = to && (to.day ? new Date(to.at.getTime() + DAY_MS) : to.at);
  if (from && end && end <= from.at) issues.push(issue('/to', 'to must come after from'));
  if (input.sample !== undefined && (!Number.isInteger(input.sample) || input.sample < 1))
    issues.push(issue('/sample', 'sample must be a whole number of at least 1'));
  if (input.seed !== undefined && input.sample === undefined)
    issues.push(issue('/seed', 'seed picks a sample: give sample too'));
  const [first] = issues;
  if (first || !from || !end)
    throw new SignoffError('invalid_input', `${first?.message ?? 'the period is not valid'}.`, {
      details: { in: 'query', issues },
    });
  return { from: from.at, to: end, sample: input.sample, seed: input.seed };
}
