import { type Static, Type } from '@sinclair/typebox';
import { type DocumentIssue, parseConfigDocument, readConfigFile } from '../config-file.js';
import { APPROVER_PATTERN, EMAIL_PATTERN } from '../core/identity.js';
import { type LoadedPolicy, policyVersionOf, ROUTES_NAME } from '../core/policy-version.js';
import { type PolicyCatalog, sha256Hex } from '../policies/catalog.js';
import { compileStages } from '../policies/compile.js';

const Pattern = Type.String({ minLength: 1, maxLength: 300 });

/** What a route says whatever it matches: who approves (approvers or a named policy), how long, how told. */
const RouteFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  approvers: Type.Optional(
    Type.Array(Type.String({ minLength: 3, maxLength: 254, pattern: APPROVER_PATTERN }), {
      minItems: 1,
      maxItems: 50,
    }),
  ),
  policy: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'a named policy' })),
  required: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  timeout: Type.Optional(Type.String({ pattern: '^\\d+(\\.\\d+)?[smhd]?$' })),
  notify: Type.Optional(Type.Array(Type.Literal('email'), { maxItems: 1 })),
};

const RouteSchema = Type.Object(
  {
    ...RouteFields,
    match: Type.Optional(
      Type.Object(
        {
          topic: Type.Optional(Pattern),
          pipeline: Type.Optional(Pattern),
          stage: Type.Optional(Pattern),
          action: Type.Optional(Pattern),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A route for GitHub deployments: the same route, matched on repository (owner/name) and environment. */
const GitHubRouteSchema = Type.Object(
  {
    ...RouteFields,
    match: Type.Optional(
      Type.Object(
        { repository: Type.Optional(Pattern), environment: Type.Optional(Pattern) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const GitHubSectionSchema = Type.Object(
  {
    routes: Type.Array(GitHubRouteSchema),
    /** GitHub login → the person (mail address) it is, for requesters and the self-approval rule. */
    people: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\\[bot\\])?$' }),
        Type.String({ minLength: 3, maxLength: 254, pattern: EMAIL_PATTERN }),
      ),
    ),
  },
  { additionalProperties: false },
);

const RoutesSchema = Type.Object(
  { routes: Type.Optional(Type.Array(RouteSchema)), github: Type.Optional(GitHubSectionSchema) },
  { additionalProperties: false },
);

export type Route = Static<typeof RouteSchema>;
export type GitHubRoute = Static<typeof GitHubRouteSchema>;

/** Routes for GitHub deployments and the GitHub logins known as people. */
export interface GitHubRouting {
  readonly routes: readonly GitHubRoute[];
  /** Keys are lowercase logins (GitHub logins are case-insensitive). */
  readonly people: ReadonlyMap<string, string>;
}

/** Everything the routing file says. */
export interface Routing {
  readonly routes: readonly Route[];
  readonly github: GitHubRouting;
  /**
   * `sha256:HEX` of the routes and people in canonical JSON, as the policy change log records
   * it; null without a routing file.
   */
  readonly version: string | null;
}

/** What an AWS message is about, for matching routes. */
export interface RouteSubject {
  readonly topic: string;
  readonly pipeline?: string | undefined;
  readonly stage?: string | undefined;
  readonly action?: string | undefined;
}

/** What a GitHub deployment is about, for matching GitHub routes. */
export interface GitHubRouteSubject {
  readonly repository: string;
  readonly environment: string;
}

/** `*` matches any run of characters; everything else is literal. */
function globMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(value);
}

/** The first route whose every match key fits the subject. */
export function findRoute<R extends { match?: object | undefined }, S extends object>(
  routes: readonly R[],
  subject: S,
): R | undefined {
  return routes.find((route) =>
    Object.entries(route.match ?? {}).every(([key, pattern]) =>
      globMatches(pattern as string, (subject as Record<string, string | undefined>)[key]),
    ),
  );
}

/**
 * Each route names approvers or a policy from the policies file, never both, and its
 * approvers make a gate that can pass: checked as fully as a policy, so a mistake stops the
 * start instead of refusing every matching notification later.
 */
function checkRoutes(
  routes: readonly (Route | GitHubRoute)[],
  policies: PolicyCatalog,
  at: readonly string[] = ['routes'],
): DocumentIssue[] {
  return routes.flatMap((route, index): DocumentIssue[] => {
    if ((route.approvers === undefined) === (route.policy === undefined))
      return [{ path: [...at, index], message: 'give either approvers or policy' }];
    if (route.policy !== undefined && !policies.has(route.policy))
      return [
        {
          path: [...at, index, 'policy'],
          message: `there is no policy named "${route.policy}" in SIGNOFF_POLICIES`,
        },
      ];
    if (route.policy !== undefined && route.required !== undefined)
      return [
        { path: [...at, index, 'required'], message: 'required goes with approvers, not with a policy' },
      ];
    if (route.approvers === undefined) return [];
    const gate = { approvers: route.approvers, required: route.required ?? 1 };
    const { issues } = compileStages([{ name: 'approval', type: 'human', gates: [gate] }], [], {
      aiConfigured: true,
    });
    // The one gate's problems are the route's own `required` or `approvers`.
    return issues.map((issue) => ({
      path: [...at, index, issue.path.at(-1) === 'required' ? 'required' : 'approvers'],
      message: issue.message,
    }));
  });
}

/** Reads the routing file named by SIGNOFF_ROUTES; mistakes name their path and line. */
export function loadRouting(path: string | undefined, policies: PolicyCatalog = new Map()): Routing {
  if (!path) return { routes: [], github: { routes: [], people: new Map() }, version: null };
  const document = parseConfigDocument(
    readConfigFile(path, 'SIGNOFF_ROUTES'),
    path,
    RoutesSchema,
    'routing file',
    (document) => [
      ...checkRoutes(document.routes ?? [], policies),
      ...checkRoutes(document.github?.routes ?? [], policies, ['github', 'routes']),
    ],
  );
  const routing = {
    routes: document.routes ?? [],
    github: {
      routes: document.github?.routes ?? [],
      people: new Map(
        Object.entries(document.github?.people ?? {}).map(([login, email]) => [login.toLowerCase(), email]),
      ),
    },
  };
  return { ...routing, version: policyVersionOf(heldRouting(routing), sha256Hex) };
}

/** What the version of a routing file is the hash of: what signoff holds, logins as it compares them. */
function heldRouting(routing: Omit<Routing, 'version'>) {
  return {
    routes: routing.routes,
    github: { routes: routing.github.routes, people: Object.fromEntries(routing.github.people) },
  };
}

/** The routing file as the policy change log records it; none without a routing file. */
export function loadedRouting(routing: Routing): LoadedPolicy[] {
  if (routing.version === null) return [];
  return [{ source: 'routes', name: ROUTES_NAME, version: routing.version, content: heldRouting(routing) }];
}

/** The AWS routes of the routing file named by SIGNOFF_ROUTES. */
export function loadRoutes(path: string | undefined, policies: PolicyCatalog = new Map()): Route[] {
  return [...loadRouting(path, policies).routes];
}
