import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../core/duration.js';
import type { Client } from './client.js';
import type { Output } from './output.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  approved (or the command succeeded)
  1  rejected (audit verify and evidence: a chain is broken; check: a problem was found)
  2  expired or cancelled
  3  anything else: usage errors, refused or failed requests, an unreachable server`;

/** What every group of commands is given. */
export interface CommandContext {
  readonly client: Client;
  readonly out: Output;
  readonly env: Record<string, string | undefined>;
  /** Help text: examples, then the exit codes. */
  readonly examples: (...lines: string[]) => string;
  /** Sets the exit code `signoff` ends with. */
  readonly exit: (code: number) => void;
}

export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n${EXIT_CODES_HELP}`;
}

export function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError('use a duration such as 90s, 15m, 1h or 7d');
  return ms;
}

/** An ISO time, or a duration meaning that long ago. */
export function since(value: string): Date {
  const ago = parseDuration(value);
  if (ago !== undefined) return new Date(Date.now() - ago);
  const time = new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new InvalidArgumentError('use an ISO time (2026-01-31T00:00:00Z) or a duration such as 24h');
  return time;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
