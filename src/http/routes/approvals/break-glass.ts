import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { breakGlassAs, listBreakGlassReviewsAs, reviewBreakGlassAs } from '../../../approvals/break-glass.js';
import { loadApprovalView } from '../../../approvals/view.js';
import type { BreakGlassReview } from '../../../core/break-glass.js';
import { principalOf } from '../../auth.js';
import { ApprovalView, errorResponses, GUARDED, WITH_BODY } from '../../responses.js';
import { ApprovalParams } from '../../schemas.js';
import { type ApprovalRoutes, security, tags } from './shared.js';

const BreakGlassBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'Why it could not wait for the gate.',
    }),
  },
  { additionalProperties: false },
);

const ReviewBody = Type.Object(
  {
    verdict: Type.Union([Type.Literal('confirm'), Type.Literal('flag')]),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const ReviewView = Type.Object(
  {
    approvalId: Type.String(),
    brokenBy: Type.String(),
    reason: Type.String(),
    brokenAt: Type.String({ format: 'date-time' }),
    reviewers: Type.Array(Type.String(), {
      description: 'Whom the skipped gates asked: any of them may review.',
    }),
    dueAt: Type.String({ format: 'date-time' }),
    status: Type.Union([Type.Literal('open'), Type.Literal('confirmed'), Type.Literal('flagged')]),
    overdue: Type.Boolean({ description: 'Still open past its deadline.' }),
    reviewedBy: Type.Union([Type.String(), Type.Null()]),
    reviewedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    comment: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

const ReviewQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('confirmed'), Type.Literal('flagged')]),
    ),
    overdue: Type.Optional(Type.Boolean({ description: 'Only open reviews past their deadline.' })),
  },
  { additionalProperties: false },
);

function reviewView(review: BreakGlassReview, now: Date) {
  return {
    ...review,
    reviewers: [...review.reviewers],
    brokenAt: review.brokenAt.toISOString(),
    dueAt: review.dueAt.toISOString(),
    reviewedAt: review.reviewedAt?.toISOString() ?? null,
    overdue: review.status === 'open' && review.dueAt < now,
  };
}

/** Break-glass: approve at once with a reason, then the after-review by someone it skipped. */
export function registerBreakGlass(routes: ApprovalRoutes) {
  registerBreak(routes);
  registerReview(routes);
  registerReviewList(routes);
}

function registerBreak({ app, services, can }: ApprovalRoutes) {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/approvals/:id/break-glass',
    {
      schema: {
        summary: 'Approve at once in an emergency (break-glass)',
        description:
          'Needs `approvals:break-glass`, which `admin` does not imply. Approves the approval at once with a required reason and resumes what waits; the approvers of the gate it skipped are mailed and asked to review it within SIGNOFF_BREAK_GLASS_REVIEW. Never by the requester.',
        tags,
        security,
        params: ApprovalParams,
        body: BreakGlassBody,
        response: {
          200: ApprovalView,
          ...errorResponses([...GUARDED, ...WITH_BODY, 'not_found', 'self_approval', 'already_decided']),
        },
      },
      preValidation: can('approvals:break-glass'),
    },
    async (request) => {
      const approval = await breakGlassAs(
        services,
        principalOf(request),
        request.params.id,
        request.body.reason,
      );
      return loadApprovalView(services.db, approval);
    },
  );
}

function registerReview({ app, services, can }: ApprovalRoutes) {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/approvals/:id/break-glass/review',
    {
      schema: {
        summary: 'Confirm or flag a break-glass',
        description:
          'By someone the break-glass skipped (an approver of its open gates), never by whoever broke the glass or the requester; once.',
        tags,
        security,
        params: ApprovalParams,
        body: ReviewBody,
        response: {
          200: ReviewView,
          ...errorResponses([
            ...GUARDED,
            ...WITH_BODY,
            'not_found',
            'self_approval',
            'not_approver',
            'already_decided',
          ]),
        },
      },
      preValidation: can('approvals:read'),
    },
    async (request) => {
      const review = await reviewBreakGlassAs(
        services,
        principalOf(request),
        request.params.id,
        request.body,
      );
      return reviewView(review, services.now());
    },
  );
}

function registerReviewList({ app, services, can }: ApprovalRoutes) {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/break-glass',
    {
      schema: {
        summary: 'After-reviews of break-glass',
        description:
          'Every review for a reader of all approvals; otherwise those that ask the caller. `overdue=true` keeps the open ones past their deadline. At most 200, the most urgent first.',
        tags,
        security,
        querystring: ReviewQuery,
        response: { 200: Type.Object({ items: Type.Array(ReviewView) }), ...errorResponses([...GUARDED]) },
      },
      preValidation: can('approvals:read'),
    },
    async (request) => {
      const listing = await listBreakGlassReviewsAs(services, principalOf(request), request.query);
      const now = services.now();
      return { items: listing.items.map((review) => reviewView(review, now)) };
    },
  );
}
