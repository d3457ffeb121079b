import { duration, type Env, integer } from './read.js';

/** What an approver's standing grant may allow, and how long a break-glass waits for review. */
export interface GrantsConfig {
  /**
   * Standing grants (an approver's "the same action again, N times or for T"): the most uses
   * and the longest time one may allow. `maxUses` 0, the default, turns them off.
   */
  readonly grantLimits: { readonly maxUses: number; readonly maxDurationMs: number };
  /** How long the after-review of a break-glass may stay open before it is overdue. */
  readonly breakGlassReviewMs: number;
}

/** The settings of standing grants and break-glass: the ways past the usual gate. */
export function readGrantsConfig(env: Env): GrantsConfig {
  return {
    grantLimits: {
      maxUses: integer(env, 'SIGNOFF_GRANT_MAX_USES', 0, 0, 1000),
      maxDurationMs: duration(env, 'SIGNOFF_GRANT_MAX_DURATION', '8h'),
    },
    breakGlassReviewMs: duration(env, 'SIGNOFF_BREAK_GLASS_REVIEW', '24h'),
  };
}
