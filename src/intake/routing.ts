import { type Static, Type } from '@sinclair/typebox';
import { type DocumentIssue, parseConfigDocument, readConfigFile } from '../config-file.js';
import { APPROVER_PATTERN } from '../core/identity.js';
import type { PolicyCatalog } from '../policies/catalog.js';
import { compileStages } from '../policies/compile.js';

const Pattern = Type.String({ minLength: 1, maxLength: 300 });

const RouteSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
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
  },
  { additionalProperties: false },
);

const RoutesSchema = Type.Object({ routes: Type.Array(RouteSchema) }, { additionalProperties: false });

export type Route = Static<typeof RouteSchema>;

/** What an AWS message is about, for matching routes. */
export interface RouteSubject {
  readonly topic: string;
  readonly pipeline?: string | undefined;
  readonly stage?: string | undefined;
  readonly action?: string | undefined;
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
export function findRoute(routes: readonly Route[], subject: RouteSubject): Route | undefined {
  return routes.find((route) =>
    Object.entries(route.match ?? {}).every(([key, pattern]) =>
      globMatches(pattern as string, subject[key as keyof RouteSubject]),
    ),
  );
}

/**
 * Each route names approvers or a policy from the policies file, never both, and its
 * approvers make a gate that can pass: checked as fully as a policy, so a mistake stops the
 * start instead of refusing every matching notification later.
 */
function checkRoutes(routes: readonly Route[], policies: PolicyCatalog): DocumentIssue[] {
  return routes.flatMap((route, index): DocumentIssue[] => {
    if ((route.approvers === undefined) === (route.policy === undefined))
      return [{ path: ['routes', index], message: 'give either approvers or policy' }];
    if (route.policy !== undefined && !policies.has(route.policy))
      return [
        {
          path: ['routes', index, 'policy'],
          message: `there is no policy named "${route.policy}" in SIGNOFF_POLICIES`,
        },
      ];
    if (route.policy !== undefined && route.required !== undefined)
      return [
        { path: ['routes', index, 'required'], message: 'required goes with approvers, not with a policy' },
      ];
    if (route.approvers === undefined) return [];
    const gate = { approvers: route.approvers, required: route.required ?? 1 };
    const { issues } = compileStages([{ name: 'approval', type: 'human', gates: [gate] }], [], {
      aiConfigured: true,
    });
    // The one gate's problems are the route's own `required` or `approvers`.
    return issues.map((issue) => ({
      path: ['routes', index, issue.path.at(-1) === 'required' ? 'required' : 'approvers'],
      message: issue.message,
    }));
  });
}

/** Reads the routing file named by SIGNOFF_ROUTES; mistakes name their path and line. */
export function loadRoutes(path: string | undefined, policies: PolicyCatalog = new Map()): Route[] {
  if (!path) return [];
  return parseConfigDocument(
    readConfigFile(path, 'SIGNOFF_ROUTES'),
    path,
    RoutesSchema,
    'routing file',
    (document) => checkRoutes(document.routes, policies),
  ).routes;
}
