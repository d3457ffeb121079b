export const PERMISSIONS = [
  'approvals:create',
  'approvals:read',
  'approvals:decide',
  /** Create with a gate looser than people deciding (rules, AI, onTimeout: approve, self-approval, no mail). */
  'approvals:inline-policy',
  /** Approve at once in an emergency, to be reviewed afterwards. Never implied by `admin`. */
  'approvals:break-glass',
  'admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Permissions granted together, optionally only for approvals whose metadata has these
 * exact values (e.g. a CI job may only touch approvals of its own repository).
 */
export interface Grant {
  readonly permissions: ReadonlySet<Permission>;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** When set, creating is allowed only with one of these named policies. */
  readonly policies?: readonly string[] | undefined;
  /** The permission rule that granted it (its name, or its position), for owner scopes. */
  readonly rule?: string | undefined;
  /** The rule says its tokens are machines, not people. */
  readonly machine?: boolean | undefined;
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
  /**
   * A token of an issuer that vouches for people which names no verified person (no verified
   * email) and no permission rule calls a machine: its holder may be a person signoff cannot
   * tell apart from the approvers, so it may not ask for approvals.
   */
  readonly unidentifiedPerson?: boolean | undefined;
  /** For tokens: who issued it and whom it names, recorded with decisions. */
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
}

/** Permissions `admin` does not imply: a permission rule (or key) must name them itself. */
const NAMED_ONLY: ReadonlySet<Permission> = new Set(['approvals:break-glass']);

function grantHolds(grant: Grant, permission: Permission): boolean {
  return grant.permissions.has(permission) || (grant.permissions.has('admin') && !NAMED_ONLY.has(permission));
}

/** Whether the principal holds a permission for at least some approvals; `admin` holds all but break-glass. */
export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.grants.some((grant) => grantHolds(grant, permission));
}

/** Whether the principal holds a permission for every approval, whatever its metadata. */
export function hasUnrestrictedPermission(principal: Principal, permission: Permission): boolean {
  return principal.grants.some((grant) => grantHolds(grant, permission) && !grant.metadata);
}

/** Whether a grant reaches an approval with this metadata (an unrestricted one reaches all). */
function grantCovers(grant: Grant, metadata: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(grant.metadata ?? {}).every(([key, value]) => metadata[key] === value);
}

/** Whether the principal may use `permission` on an approval with this metadata. */
export function permitsApproval(
  principal: Principal,
  permission: Permission,
  metadata: Readonly<Record<string, unknown>>,
): boolean {
  return principal.grants.some((grant) => grantHolds(grant, permission) && grantCovers(grant, metadata));
}

/**
 * The named policies a principal may create with, or undefined when it is pinned to none.
 * A pin only ever narrows: with several pinned grants, only the policies all of them name;
 * a grant without a pin never widens one.
 */
export function allowedPolicies(principal: Principal): readonly string[] | undefined {
  const pins = principal.grants
    .filter((grant) => grantHolds(grant, 'approvals:create') && grant.policies)
    .map((grant) => grant.policies ?? []);
  const [first, ...rest] = pins;
  if (!first) return undefined;
  return first.filter((policy) => rest.every((pin) => pin.includes(policy)));
}

/**
 * Whom an approval created by this principal belongs to: the credential itself when it may
 * create anywhere, else the restriction it was held to (every CI token of one repository
 * shares that repository's approvals). Supersede and cancel stay within it.
 */
export function ownerScope(principal: Principal, metadata: Readonly<Record<string, unknown>>): string {
  if (hasUnrestrictedPermission(principal, 'approvals:create')) return `credential ${principal.credentialId}`;
  const grant = principal.grants.find(
    (g) => grantHolds(g, 'approvals:create') && grantCovers(g, metadata) && g.metadata,
  );
  const restriction = Object.entries(grant?.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `scope ${principal.issuer ?? principal.kind} ${grant?.rule ?? ''} ${JSON.stringify(restriction)}`;
}

/**
 * One way to turn a bearer value into a principal. Returns undefined when the value is
 * not of its kind (so the next authenticator may try), or throws `invalid_token`.
 */
export interface Authenticator {
  authenticate(bearer: string): Promise<Principal | undefined>;
}
