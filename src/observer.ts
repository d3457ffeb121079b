/**
 * What happened that an operator counts: the use cases, the outbox and the HTTP layer tell
 * an Observer, and only the metrics module knows how it is counted. Nothing here knows
 * Prometheus.
 */
export type Observation =
  | { readonly type: 'approval.created'; readonly policy: string }
  | {
      readonly type: 'approval.ended';
      readonly outcome: 'approved' | 'rejected' | 'expired' | 'cancelled';
      readonly policy: string;
      /** From the request to its end. */
      readonly durationMs: number;
    }
  | { readonly type: 'delivery'; readonly kind: string; readonly result: 'delivered' | 'retry' | 'dead' }
  | { readonly type: 'approval.break_glass'; readonly policy: string }
  | {
      readonly type: 'ai.review';
      readonly verdict: 'approve' | 'reject' | 'escalate' | 'error';
      readonly durationMs: number;
    }
  | {
      readonly type: 'http.request';
      readonly method: string;
      /** The route pattern (`/v1/approvals/:id`), never the URL: URLs carry ids and link tokens. */
      readonly route: string;
      readonly status: number;
      readonly durationMs: number;
    };

export interface Observer {
  observe(observation: Observation): void;
}

/** Counts nothing: for tools and tests that start signoff without metrics. */
export const ignoreObservations: Observer = { observe() {} };

/** The policy label of an approval: its named policy, or "inline" for one the request spelled out. */
export function policyLabel(policy: { readonly name?: string | null | undefined }): string {
  return policy.name ?? 'inline';
}
