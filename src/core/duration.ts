const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses `90s`, `15m`, `1h`, `7d` or a plain number of seconds into milliseconds.
 * Returns undefined for anything else so callers can report it in their own terms.
 */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] || 's';
  const factor = UNIT_SECONDS[unit];
  if (factor === undefined) return undefined;
  return Math.round(amount * factor * 1000);
}

/** Formats milliseconds as a short human duration such as `59m` or `1h 5m`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const parts: string[] = [];
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes && !days) parts.push(`${minutes}m`);
  if (!days && !hours && (rest || parts.length === 0)) parts.push(`${rest}s`);
  return parts.join(' ');
}
