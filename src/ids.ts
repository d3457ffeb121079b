import { randomFillSync } from 'node:crypto';

export type IdPrefix = 'apr' | 'dec' | 'evt' | 'msg' | 'key' | 'slk' | 'grt' | 'dlg';

/** Crockford's base32, as ULID spells it. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_BYTES = 10;
/** One CSPRNG call fills randomness for 409 ids; filling it byte by byte cost ~5% of a read. */
const POOL_BYTES = 4096;

const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;
let lastTime = -1;
/** The 80 random bits of the last id, as 16 base32 digits (values 0–31). */
const lastRandom = new Uint8Array(16);

function freshRandom(): void {
  if (poolOffset + RANDOM_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // 80 bits = 16 digits of 5 bits: take them two bytes at a time, 5 bits from each pair's top.
  let bits = 0;
  let value = 0;
  let digit = 0;
  for (let i = 0; i < RANDOM_BYTES; i++) {
    value = (value << 8) | (pool[poolOffset + i] as number);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      lastRandom[digit++] = (value >> bits) & 31;
    }
    value &= (1 << bits) - 1;
  }
  poolOffset += RANDOM_BYTES;
}

/** Adds one to the random part, as a monotonic ULID does within one millisecond. */
function incrementRandom(): void {
  for (let i = 15; i >= 0; i--) {
    const next = (lastRandom[i] as number) + 1;
    if (next < 32) {
      lastRandom[i] = next;
      return;
    }
    lastRandom[i] = 0;
  }
  // 2^80 ids in one millisecond: draw afresh rather than wrap below the previous one.
  freshRandom();
}

/** The time part of ids of the last millisecond: it changes at most once a millisecond. */
let timeText = '';

/**
 * A monotonic ULID: 48 bits of milliseconds and 80 bits from the CSPRNG, drawn from a pooled
 * buffer; ids of one millisecond count up from the first, so every id sorts after the last.
 * Ids are not secrets (tokens and keys come from `generateSecret`).
 */
export function ulid(now = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    timeText = encodeTime(now);
    freshRandom();
  } else {
    incrementRandom();
  }
  let out = timeText;
  for (let i = 0; i < 16; i++) out += ALPHABET[lastRandom[i] as number];
  return out;
}

function encodeTime(time: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[time % 32] + out;
    time = Math.floor(time / 32);
  }
  return out;
}

/** A sortable id (ULID) with a type prefix, e.g. `apr_01J...`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export type NewId = typeof newId;
