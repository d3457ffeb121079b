/**
 * The figures of an evidence pack: how long decisions took, and which approvals a sample
 * holds. Pure: the hash for sampling is passed in.
 */

/** How long approvals took to be decided: how many were, the median and the 90th percentile. */
export interface DurationStats {
  readonly decided: number;
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
}

/**
 * The nearest-rank percentile of ascending values: the smallest value at or above `q` of
 * them (the ⌈q·n⌉-th), so every figure is one that was measured. Null for no values.
 */
export function nearestRank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** The median and 90th percentile (nearest rank) of some durations. */
export function durationStats(durations: readonly number[]): DurationStats {
  const sorted = [...durations].sort((a, b) => a - b);
  return { decided: sorted.length, medianMs: nearestRank(sorted, 0.5), p90Ms: nearestRank(sorted, 0.9) };
}

/** Time to decision, overall and per policy (by label, in name order). */
export function timeToDecision(
  decided: readonly { readonly policy: string; readonly durationMs: number }[],
): { overall: DurationStats; byPolicy: (DurationStats & { policy: string })[] } {
  const byPolicy = new Map<string, number[]>();
  for (const { policy, durationMs } of decided)
    byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), durationMs]);
  return {
    overall: durationStats(decided.map((d) => d.durationMs)),
    byPolicy: [...byPolicy]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([policy, durations]) => ({ policy, ...durationStats(durations) })),
  };
}

/**
 * A reproducible sample of `size` ids: those whose SHA-256 of `SEED:ID` sorts first. The same
 * seed and population give the same sample on any machine, and anyone can recompute it.
 */
export function sampleIds(
  ids: readonly string[],
  size: number,
  seed: string,
  sha256Hex: (text: string) => string,
): Set<string> {
  const ranked = ids.map((id) => ({ id, rank: sha256Hex(`${seed}:${id}`) }));
  ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  return new Set(ranked.slice(0, size).map((r) => r.id));
}
