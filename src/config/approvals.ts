import { SignoffError } from '../core/errors.js';
import { duration, type Env, text } from './read.js';

/** How long approvals and their decision links last, and which policies they may name. */
export interface ApprovalsConfig {
  /** The longest a decision link works; undefined: until its approval's deadline, however far. */
  readonly linkTtlMs: number | undefined;
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  /** Path of the named policies file. */
  readonly policiesPath: string | undefined;
}

/** The approvals' settings; a default timeout never exceeds the longest one allowed. */
export function readApprovalsConfig(env: Env): ApprovalsConfig {
  const config = {
    linkTtlMs: env.SIGNOFF_LINK_TTL ? duration(env, 'SIGNOFF_LINK_TTL', '') : undefined,
    defaultTimeoutMs: duration(env, 'SIGNOFF_DEFAULT_TIMEOUT', '7d'),
    maxTimeoutMs: duration(env, 'SIGNOFF_MAX_TIMEOUT', '30d'),
    policiesPath: text(env, 'SIGNOFF_POLICIES'),
  };
  if (config.linkTtlMs !== undefined && config.linkTtlMs <= 0)
    throw new SignoffError('invalid_input', 'SIGNOFF_LINK_TTL must be more than 0.');
  if (config.defaultTimeoutMs > config.maxTimeoutMs)
    throw new SignoffError('invalid_input', 'SIGNOFF_DEFAULT_TIMEOUT must not exceed SIGNOFF_MAX_TIMEOUT.');
  return config;
}
