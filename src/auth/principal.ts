export const PERMISSIONS = ['approvals:create', 'approvals:read', 'approvals:decide', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Who called the API, as established by one of the authenticators. */
export interface Principal {
  readonly kind: 'api_key' | 'jwt';
  /** Stable id of the credential (key id, or issuer + subject). */
  readonly credentialId: string;
  /** The identity that decides and requests: an email or a subject. */
  readonly actor: string | null;
  readonly groups: readonly string[];
  readonly permissions: ReadonlySet<Permission>;
}

/** Whether the principal holds a permission; `admin` holds them all. */
export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has('admin') || principal.permissions.has(permission);
}

/**
 * One way to turn a bearer value into a principal. Returns undefined when the value is
 * not of its kind (so the next authenticator may try), or throws `invalid_token`.
 */
export interface Authenticator {
  authenticate(bearer: string): Promise<Principal | undefined>;
}
