import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  declareDelegation,
  endDelegationAs,
  listDelegationsAs,
  type StoredDelegation,
} from '../../../approvals/delegation.js';
import { EMAIL_PATTERN } from '../../../core/identity.js';
import { principalOf } from '../../auth.js';
import { errorResponses, GUARDED, WITH_BODY } from '../../responses.js';
import { type ApprovalRoutes, security } from './shared.js';

const tags = ['delegations'];
const Time = Type.String({ format: 'date-time', description: 'a time like 2026-12-24T09:00:00Z' });

const DelegationBody = Type.Object(
  {
    to: Type.String({ pattern: EMAIL_PATTERN, maxLength: 320, description: 'who decides in your place' }),
    from: Type.Optional(Time),
    until: Time,
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

const DelegationView = Type.Object(
  {
    id: Type.String(),
    delegator: Type.String(),
    delegate: Type.String(),
    startsAt: Time,
    endsAt: Time,
    endedAt: Type.Union([Time, Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    createdAt: Time,
  },
  { additionalProperties: false },
);

const IdParams = Type.Object(
  { id: Type.String({ pattern: '^dlg_[A-Za-z0-9]{1,60}$' }) },
  { additionalProperties: false },
);

function view(d: StoredDelegation) {
  return {
    ...d,
    startsAt: d.startsAt.toISOString(),
    endsAt: d.endsAt.toISOString(),
    endedAt: d.endedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}

/** Delegation while away: declare ("my approvals go to C until …"), list, end. */
export function registerDelegations(routes: ApprovalRoutes) {
  const { app, services, can } = routes;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/v1/delegations',
    {
      schema: {
        summary: 'Delegate your approvals while away',
        description:
          'From `from` (now) until `until`, you are asked through `to`, whose decision fills your seat and reads "to for you". Never to the requester of an approval, never passed on, at most SIGNOFF_DELEGATION_MAX long.',
        tags,
        security,
        body: DelegationBody,
        response: { 201: DelegationView, ...errorResponses([...GUARDED, ...WITH_BODY]) },
      },
      preValidation: can('approvals:decide'),
    },
    async (request, reply) =>
      reply.status(201).send(view(await declareDelegation(services, principalOf(request), request.body))),
  );
  api.get(
    '/v1/delegations',
    {
      schema: {
        summary: 'Delegations you made or were given',
        description: 'Every one for an admin; at most 200, newest first.',
        tags,
        security,
        response: {
          200: Type.Object({ items: Type.Array(DelegationView) }),
          ...errorResponses([...GUARDED]),
        },
      },
      preValidation: can('approvals:read'),
    },
    async (request) => ({ items: (await listDelegationsAs(services, principalOf(request))).map(view) }),
  );
  api.post(
    '/v1/delegations/:id/end',
    {
      schema: {
        summary: 'End a delegation now',
        description: 'Its delegator, its delegate or an admin.',
        tags,
        security,
        params: IdParams,
        response: { 200: DelegationView, ...errorResponses([...GUARDED, 'not_found', 'already_decided']) },
      },
      preValidation: can('approvals:decide'),
    },
    async (request) => view(await endDelegationAs(services, principalOf(request), request.params.id)),
  );
}
