import { type Static, Type } from '@sinclair/typebox';
import { parseConfigDocument, readConfigFile } from '../config-file.js';
import { SignoffError } from '../core/errors.js';
import { PERMISSIONS } from './principal.js';

/** Asymmetric algorithms only: an HMAC "signed" with a public key must never verify. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const NonEmpty = Type.String({ minLength: 1, maxLength: 500 });
const Permission = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)));

const IssuerSchema = Type.Object(
  {
    issuer: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 }),
    audience: Type.Union([NonEmpty, Type.Array(NonEmpty, { minItems: 1 })]),
    algorithms: Type.Optional(
      Type.Array(Type.Union(ASYMMETRIC_ALGORITHMS.map((a) => Type.Literal(a))), { minItems: 1 }),
    ),
    typ: Type.Optional(NonEmpty),
    identityClaim: Type.Optional(NonEmpty),
    groupsClaim: Type.Optional(NonEmpty),
    /**
     * Whether this issuer vouches for people (email, groups). A CI issuer such as GitHub
     * Actions does not: its tokens act as their subject and carry no groups.
     */
    people: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ClaimValue = Type.Union([NonEmpty, Type.Array(NonEmpty, { minItems: 1 })]);
const RestrictValue = Type.Union([
  NonEmpty,
  Type.Object({ claim: NonEmpty }, { additionalProperties: false }),
]);

const RuleSchema = Type.Object(
  {
    name: Type.Optional(NonEmpty),
    issuer: Type.Optional(NonEmpty),
    scopes: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
    groups: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
    claims: Type.Optional(Type.Record(NonEmpty, ClaimValue)),
    permissions: Type.Array(Permission, { minItems: 1 }),
    /**
     * The tokens this rule matches are machines (service accounts, CI jobs): they may ask for
     * approvals as `subject:SUB` although their issuer vouches for people.
     */
    machine: Type.Optional(Type.Boolean()),
    restrict: Type.Optional(
      Type.Object(
        {
          metadata: Type.Optional(Type.Record(NonEmpty, RestrictValue)),
          /** Creating is allowed only with one of these named policies. */
          policies: Type.Optional(Type.Array(NonEmpty, { minItems: 1, maxItems: 100 })),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
  },
  { additionalProperties: false },
);

const DocumentSchema = Type.Object(
  {
    issuers: Type.Optional(Type.Array(IssuerSchema)),
    rules: Type.Optional(Type.Array(RuleSchema)),
  },
  { additionalProperties: false },
);

export type IssuerConfig = Static<typeof IssuerSchema>;
export type PermissionRule = Static<typeof RuleSchema>;
export interface PermissionDocument {
  readonly issuers: readonly IssuerConfig[];
  readonly rules: readonly PermissionRule[];
}

/** Without a document: a scope named like a permission grants that permission. */
const BUILT_IN_RULES: PermissionRule[] = PERMISSIONS.map((permission) => ({
  name: `scope ${permission}`,
  scopes: [permission],
  permissions: [permission],
}));

/** Parses and checks a permission document (YAML or JSON); mistakes name their path and line. */
export function parsePermissionDocument(source: string, origin: string): PermissionDocument {
  const value = parseConfigDocument(source, origin, DocumentSchema, 'permission document');
  const issuers = value.issuers ?? [];
  for (const rule of value.rules ?? []) {
    if (rule.issuer && !issuers.some((i) => i.issuer === rule.issuer))
      throw new SignoffError(
        'invalid_input',
        `${origin}: rule "${rule.name ?? rule.issuer}" names an issuer not listed under issuers.`,
      );
  }
  return { issuers, rules: value.rules ?? [] };
}

/**
 * The permission setup: the document at SIGNOFF_PERMISSIONS (if any) plus the issuer of
 * SIGNOFF_OIDC_ISSUER/SIGNOFF_OIDC_AUDIENCE. No document means the built-in rules.
 */
export function loadPermissions(options: {
  path?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}): PermissionDocument {
  let document: PermissionDocument = { issuers: [], rules: BUILT_IN_RULES };
  if (options.path) {
    document = parsePermissionDocument(readConfigFile(options.path, 'SIGNOFF_PERMISSIONS'), options.path);
  }
  if (options.issuer) {
    if (!options.audience)
      throw new SignoffError('invalid_input', 'SIGNOFF_OIDC_AUDIENCE must be set with SIGNOFF_OIDC_ISSUER.');
    if (!document.issuers.some((i) => i.issuer === options.issuer))
      document = {
        ...document,
        issuers: [...document.issuers, { issuer: options.issuer, audience: options.audience }],
      };
  }
  // With several issuers, a rule without one would let any of them grant its permissions.
  const unbound = document.rules.filter((rule) => rule.issuer === undefined);
  if (document.issuers.length > 1 && unbound.length > 0)
    throw new SignoffError(
      'invalid_input',
      `With more than one issuer, every rule must name its issuer; these do not: ${unbound.map((r, i) => r.name ?? `#${i + 1}`).join(', ')}.`,
    );
  return document;
}

/** Refuses rules that pin credentials to named policies the policies file does not define. */
export function checkPinnedPolicies(document: PermissionDocument, exists: (name: string) => boolean): void {
  const unknown = [
    ...new Set(document.rules.flatMap((rule) => rule.restrict?.policies ?? []).filter((p) => !exists(p))),
  ];
  if (unknown.length > 0)
    throw new SignoffError(
      'invalid_input',
      `SIGNOFF_PERMISSIONS pins credentials to policies that SIGNOFF_POLICIES does not define: ${unknown.join(', ')}.`,
      { details: { policies: unknown } },
    );
}
