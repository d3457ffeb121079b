import { describe, expect, it } from 'vitest';
import { newId, ulid } from '../../src/ids.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function decodeTime(id: string): number {
  let time = 0;
  for (const char of id.slice(0, 10)) time = time * 32 + ALPHABET.indexOf(char);
  return time;
}

describe('ids', () => {
  it('are ULIDs with a type prefix, carrying the millisecond they were made', () => {
    const before = Date.now();
    const id = newId('apr');
    expect(id).toMatch(/^apr_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id.slice(4))).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id.slice(4))).toBeLessThanOrEqual(Date.now());
  });

  it('sort in the order they were made, also within one millisecond and across the pool refills', () => {
    const ids = Array.from({ length: 5000 }, () => ulid(1_900_000_000_000));
    const later = ulid(1_900_000_000_001);
    expect([...ids, later]).toEqual([...ids, later].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keep sorting after the clock steps back', () => {
    const first = ulid(1_950_000_000_000);
    const second = ulid(1_949_999_999_000);
    expect(second > first).toBe(true);
    expect(decodeTime(second)).toBe(1_950_000_000_000);
  });

  it('draw fresh randomness each millisecond', () => {
    const randomParts = new Set(
      Array.from({ length: 1000 }, (_, i) => ulid(2_000_000_000_000 + i).slice(10)),
    );
    expect(randomParts.size).toBe(1000);
  });
});
