import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/outbox/backoff.js';
import { parseRetryAfter } from '../../src/outbox/errors.js';

describe('outbox backoff', () => {
  it('doubles from the base up to the maximum, with half of each delay random', () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 60_000, high))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 60_000, low))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelay(30, 1000, 60_000, high)).toBe(60_000);
    expect(retryDelay(1_000, 1000, 60_000, low)).toBe(30_000);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what it cannot read', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
