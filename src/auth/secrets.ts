import { createHash, randomBytes } from 'node:crypto';

/** A fresh URL-safe secret of 256 bits from the CSPRNG. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The shape of an API key (generated ones are `sk_` + 43 base64url characters). */
export const API_KEY_PATTERN = /^[A-Za-z0-9_-]{20,200}$/;

/** SHA-256 hex digest: how link tokens and API keys are stored and looked up. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
