import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/worker/dispatcher.js';

describe('outbox backoff', () => {
  it('doubles from the base up to the maximum, with half of each delay random', () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 60_000, high))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 60_000, low))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelay(30, 1000, 60_000, high)).toBe(60_000);
    expect(retryDelay(1_000, 1000, 60_000, low)).toBe(30_000);
  });
});
