export const PERMISSIONS = ['approvals:create', 'approvals:read', 'approvals:decide', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Permissions granted together, optionally only for approvals whose metadata has these
 * exact values (e.g. a CI job may only touch approvals of its own repository).
 */
export interface Grant {
  readonly permissions: ReadonlySet<Permission>;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** Who called the API, as established by one of the authenticators. */
export interface Principal {
  readonly kind: 'api_key' | 'jwt';
  /** Stable id of the credential (key id, or issuer + subject). */
  readonly credentialId: string;
  /** The identity that decides and requests: an email or a subject. */
  readonly actor: string | null;
  readonly groups: readonly string[];
  readonly grants: readonly Grant[];
  /** For tokens: who issued it and whom it names, recorded with decisions. */
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
}

function grantHolds(grant: Grant, permission: Permission): boolean {
  return grant.permissions.has('admin') || grant.permissions.has(permission);
}

/** Whether the principal holds a permission for at least some approvals; `admin` holds them all. */
export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.grants.some((grant) => grantHolds(grant, permission));
}

/** Whether the principal holds a permission for every approval, whatever its metadata. */
export function hasUnrestrictedPermission(principal: Principal, permission: Permission): boolean {
  return principal.grants.some((grant) => grantHolds(grant, permission) && !grant.metadata);
}

/** Whether the principal may use `permission` on an approval with this metadata. */
export function permitsApproval(
  principal: Principal,
  permission: Permission,
  metadata: Readonly<Record<string, unknown>>,
): boolean {
  return principal.grants.some(
    (grant) =>
      grantHolds(grant, permission) &&
      Object.entries(grant.metadata ?? {}).every(([key, value]) => metadata[key] === value),
  );
}

/**
 * One way to turn a bearer value into a principal. Returns undefined when the value is
 * not of its kind (so the next authenticator may try), or throws `invalid_token`.
 */
export interface Authenticator {
  authenticate(bearer: string): Promise<Principal | undefined>;
}
