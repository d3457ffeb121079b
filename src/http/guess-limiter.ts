import { LRUCache } from 'lru-cache';

/**
 * Counts, per client address, decision-link lookups that found nothing. A valid link never
 * counts, so an approver keeps working while an address that guesses is throttled, and
 * one guesser behind a proxy does not lock out everyone else (with SIGNOFF_TRUST_PROXY).
 */
export interface GuessLimiter {
  /** Records one failed lookup; answers how long the address must wait, or 0 while under the limit. */
  fail(address: string): number;
}

/** A fixed window of `windowMs` per address, `max` failures in it; at most `addresses` remembered. */
export function createGuessLimiter(options: {
  max: number;
  windowMs: number;
  now: () => number;
  addresses?: number;
}): GuessLimiter {
  // Bounded by size, one per address, rather than by `max`: lru-cache sets aside room for `max`
  // entries when it is made, and 100,000 of them took each limiter ~11 ms and megabytes at start.
  const windows = new LRUCache<string, { start: number; failures: number }>({
    maxSize: options.addresses ?? 100_000,
    sizeCalculation: () => 1,
  });
  return {
    fail(address) {
      const now = options.now();
      let window = windows.get(address);
      if (!window || now - window.start >= options.windowMs) {
        window = { start: now, failures: 0 };
        windows.set(address, window);
      }
      window.failures += 1;
      return window.failures > options.max ? window.start + options.windowMs - now : 0;
    },
  };
}
