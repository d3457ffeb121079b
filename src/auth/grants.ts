import type { JWTPayload } from 'jose';
import type { PermissionRule } from './permission-document.js';
import type { Grant } from './principal.js';

/** The scopes of a token, from `scope` (space separated) or `scp` (list or string). */
export function scopesOf(claims: JWTPayload): string[] {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
}

/** A claim as a list of strings (groups may come as a list or a single string). */
export function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function scalarClaim(claims: JWTPayload, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

function matches(
  rule: PermissionRule,
  claims: JWTPayload,
  scopes: readonly string[],
  groups: readonly string[],
): boolean {
  if (rule.issuer !== undefined && rule.issuer !== claims.iss) return false;
  if (rule.scopes && !rule.scopes.every((s) => scopes.includes(s))) return false;
  if (rule.groups && !rule.groups.some((g) => groups.includes(g))) return false;
  for (const [name, allowed] of Object.entries(rule.claims ?? {})) {
    const value = scalarClaim(claims, name);
    if (value === undefined || !stringsOf(allowed).includes(value)) return false;
  }
  return true;
}

/** The metadata a rule's grant is restricted to, or null when a claim it needs is missing. */
function restriction(rule: PermissionRule, claims: JWTPayload): Record<string, string> | undefined | null {
  if (!rule.restrict?.metadata) return undefined;
  const metadata: Record<string, string> = {};
  for (const [key, source] of Object.entries(rule.restrict.metadata)) {
    const value = typeof source === 'string' ? source : scalarClaim(claims, source.claim);
    if (value === undefined) return null;
    metadata[key] = value;
  }
  return metadata;
}

/** What the rules grant a verified token. Nothing matching means nothing granted (deny by default). */
export function grantsFor(
  rules: readonly PermissionRule[],
  claims: JWTPayload,
  groups: readonly string[],
): Grant[] {
  const grants: Grant[] = [];
  const scopes = scopesOf(claims);
  for (const [index, rule] of rules.entries()) {
    if (!matches(rule, claims, scopes, groups)) continue;
    const metadata = restriction(rule, claims);
    if (metadata === null) continue;
    grants.push({
      permissions: new Set(rule.permissions),
      metadata,
      policies: rule.restrict?.policies,
      rule: rule.name ?? `#${index + 1}`,
      machine: rule.machine,
    });
  }
  return grants;
}
