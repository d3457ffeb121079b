/*
 * A change window: when an approved change may resume. "Weekdays 09:00–17:00 Europe/Berlin,
 * never on the freeze dates." Outside it an approval can still be decided; what waits on it is
 * told when the window next opens. Time zones come from Intl, so this stays a pure function
 * of its inputs.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ChangeWindow {
  /** An IANA time zone, like Europe/Berlin. */
  readonly timezone: string;
  readonly days: readonly Weekday[];
  /** "09:00" and "17:00", local time; `to` after `from` on the same day. */
  readonly from: string;
  readonly to: string;
  /** Local dates (YYYY-MM-DD) on which the window stays shut. */
  readonly freeze?: readonly string[] | undefined;
  /** What an approval that ends approved while it is shut does: `wait` (default) to resume, or `reject`. */
  readonly outside?: 'wait' | 'reject' | undefined;
}

interface LocalDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: Weekday;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** The wall clock in `timezone` at `at`. */
function wallClock(at: Date, timezone: string) {
  const parts = Object.fromEntries(
    formatterFor(timezone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: (parts.weekday ?? 'Sun').slice(0, 3).toLowerCase() as Weekday,
  };
}

/** The instant at which the wall clock in `timezone` shows this local time (DST-aware). */
function instantOf(day: LocalDay, time: string, timezone: string): Date {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const wanted = Date.UTC(day.year, day.month - 1, day.day, hour, minute);
  let guess = wanted;
  // Two rounds settle the zone's offset, also across a change of summer time.
  for (let round = 0; round < 2; round++) {
    const shown = wallClock(new Date(guess), timezone);
    const shownMs = Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute, shown.second);
    guess += wanted - shownMs;
  }
  return new Date(guess);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The local day `offset` days after the one `at` falls on in `timezone`. */
function localDay(at: Date, timezone: string, offset: number): LocalDay {
  const today = wallClock(at, timezone);
  const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    weekday: WEEKDAYS[date.getUTCDay()] as Weekday,
  };
}

/**
 * When the window is next open at or after `now`: `now` itself when it is open, else when it
 * opens. Looks a year ahead; a window that never opens in that time (every day frozen) answers
 * null.
 */
export function nextOpening(window: ChangeWindow, now: Date): Date | null {
  for (let offset = 0; offset <= 366; offset++) {
    const day = localDay(now, window.timezone, offset);
    const date = `${day.year}-${pad(day.month)}-${pad(day.day)}`;
    if (!window.days.includes(day.weekday) || window.freeze?.includes(date)) continue;
    const opens = instantOf(day, window.from, window.timezone);
    const closes = instantOf(day, window.to, window.timezone);
    if (now < opens) return opens;
    if (now < closes) return now;
  }
  return null;
}

/**
 * When what waits on an ended approval is told: at once, unless it was approved (not by
 * break-glass) under a policy whose change window is shut; then when the window opens.
 */
export function resumeTime(
  approval: {
    readonly status: string;
    readonly policy: { readonly window?: ChangeWindow | undefined };
    readonly breakGlass?: unknown;
  },
  decidedAt: Date,
): Date {
  const window = approval.policy.window;
  if (!window || approval.status !== 'approved' || approval.breakGlass) return decidedAt;
  return nextOpening(window, decidedAt) ?? decidedAt;
}

/** Whether the window is open at `now`. */
export function isOpen(window: ChangeWindow, now: Date): boolean {
  return nextOpening(window, now)?.getTime() === now.getTime();
}

/** "Mon 8 Dec 2026, 09:00 CET": when it opens, in the window's own zone, named. */
export function formatInZone(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  })
    .format(at)
    .replace(' at ', ', ');
}

/** "mon–fri 09:00–17:00 Europe/Berlin": the window in a few words. */
export function describeWindow(window: ChangeWindow): string {
  return `${window.days.join(', ')} ${window.from}–${window.to} ${window.timezone}${window.freeze?.length ? `, not on ${window.freeze.join(', ')}` : ''}`;
}
