import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh URL-safe secret of 256 bits from the CSPRNG. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 hex digest: how link tokens and API keys are stored and looked up. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Compares two secrets in constant time (their digests, so lengths never leak). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
