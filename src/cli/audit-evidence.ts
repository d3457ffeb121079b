import { once } from 'node:events';
import { buildEvidencePack } from '../governance/evidence.js';
import { type EvidenceFormat, renderEvidence } from '../governance/evidence-formats.js';
import { evidenceRequest } from '../governance/evidence-period.js';
import type { EvidencePack } from '../governance/evidence-schema.js';
import { withStoredAudit } from './audit.js';
import type { Output } from './output.js';

/** What the pack found, for the person running it: the period, what is listed, every broken chain. */
function report(out: Output, pack: EvidencePack): void {
  const { summary, sample } = pack;
  const listed = sample ? `a sample of ${pack.approvals.length} (seed ${sample.seed})` : 'all of them';
  out.log(
    `${summary.approvals} approvals created from ${pack.period.from} up to ${pack.period.to}; listed: ${listed}`,
  );
  for (const broken of summary.chain.broken) out.log(`broken: ${broken.approvalId}: ${broken.why}`);
  for (const broken of summary.policyLog.broken)
    out.log(`broken: ${broken.at.id} of the policy change log: ${broken.at.why}`);
  const { chain, policyLog } = summary;
  if (chain.verified && policyLog.verified)
    out.log(
      `verified ${chain.events} events in ${chain.approvals} approvals and ${policyLog.entries} policy log entries`,
    );
}

/**
 * `signoff audit evidence --from DAY --to DAY`: the evidence pack of a period on stdout, read
 * from the stored rows as `audit verify` reads them. Returns 1 when a chain is broken (the
 * pack, which names it, is written all the same), else 0.
 */
export async function auditEvidence(
  out: Output,
  options: { from: string; to: string; format: EvidenceFormat; sample?: string; seed?: string },
): Promise<number> {
  const request = evidenceRequest({
    from: options.from,
    to: options.to,
    sample: options.sample === undefined ? undefined : Number(options.sample),
    seed: options.seed,
  });
  return withStoredAudit(async (db) => {
    const pack = await buildEvidencePack(db, request, new Date());
    if (!process.stdout.write(renderEvidence(pack, options.format))) await once(process.stdout, 'drain');
    report(out, pack);
    return pack.summary.chain.verified && pack.summary.policyLog.verified ? 0 : 1;
  });
}
