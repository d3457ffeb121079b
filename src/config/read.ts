import { parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import { type AllowList, parseAllowList } from '../egress/address-policy.js';

/** The environment a configuration is read from. */
export type Env = Record<string, string | undefined>;

/** A setting as given; unset and empty are the same: not given. */
export function text(env: Env, name: string): string | undefined {
  return env[name] || undefined;
}

/** A duration setting (90s, 15m, 1h, 7d or seconds) in milliseconds. */
export function duration(env: Env, name: string, fallback: string): number {
  const raw = env[name] ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined)
    throw new SignoffError(
      'invalid_input',
      `${name}="${raw}" is not a duration: use 90s, 15m, 1h, 7d or seconds.`,
    );
  return ms;
}

/** An `on`/`off` switch. */
export function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new SignoffError('invalid_input', `${name}="${raw}" must be on or off.`);
}

/** A whole number within `min`..`max`. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new SignoffError('invalid_input', `${name}="${raw}" must be a whole number from ${min} to ${max}.`);
  return value;
}

/** A lowercase SQL identifier (a schema name). */
export function identifier(env: Env, name: string, fallback: string): string {
  const value = env[name] || fallback;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value))
    throw new SignoffError(
      'invalid_input',
      `${name}="${value}" must be a lowercase SQL identifier such as signoff.`,
    );
  return value;
}

/** A host pattern, always matched against the whole host name (an unanchored one would let evil.net in). */
export function pattern(env: Env, name: string, fallback: string): RegExp {
  const raw = env[name] || fallback;
  try {
    return new RegExp(`^(?:${raw})$`);
  } catch {
    throw new SignoffError('invalid_input', `${name}="${raw}" is not a regular expression.`);
  }
}

/** A URL of one of `protocols`, as given. */
export function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SignoffError('invalid_input', `${name} is not a URL.`);
  }
  if (!protocols.includes(parsed.protocol))
    throw new SignoffError('invalid_input', `${name} must use ${protocols.join(' or ')}.`);
  return raw;
}

/** An HTTPS or HTTP base URL without its trailing slashes, or `fallback`'s. */
export function baseUrl(env: Env, name: string, fallback: string): string {
  return (url(env, name, ['https:', 'http:']) ?? fallback).replace(/\/+$/, '');
}

/** A comma list, each entry trimmed, empty ones dropped. */
export function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** A comma list of host names and address ranges outbound requests may reach. */
export function allowList(env: Env, name: string): AllowList | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const parsed = parseAllowList(raw);
  if (!parsed.ok)
    throw new SignoffError(
      'invalid_input',
      `${name} must be a comma list of host names and address ranges: ${parsed.problems.join('; ')}.`,
    );
  return parsed.list;
}
