import { duration, type Env, integer } from './read.js';

/** What an approver's standing grant may allow. */
export interface GrantsConfig {
  /**
   * Standing grants (an approver's "the same action again, N times or for T"): the most uses
   * and the longest time one may allow. `maxUses` 0, the default, turns them off.
   */
  readonly grantLimits: { readonly maxUses: number; readonly maxDurationMs: number };
}

/** The standing grants' settings. */
export function readGrantsConfig(env: Env): GrantsConfig {
  return {
    grantLimits: {
      maxUses: integer(env, 'SIGNOFF_GRANT_MAX_USES', 0, 0, 1000),
      maxDurationMs: duration(env, 'SIGNOFF_GRANT_MAX_DURATION', '8h'),
    },
  };
}
