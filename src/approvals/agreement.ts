import type { NamedPolicy } from '../policies/catalog.js';
import type { Services } from '../services.js';
import { findAgreement } from '../store/agreement.js';

/** How one advising or shadowing AI stage fared against the people who decided after it. */
export interface StageAgreement {
  readonly stage: string;
  readonly mode: 'advise' | 'shadow';
  readonly agreed: number;
  readonly disagreed: number;
  readonly escalated: number;
  /** agreed / (agreed + disagreed); null before anyone decided. */
  readonly agreement: number | null;
}

/** The agreement figures of every AI stage of a named policy that does not decide by itself. */
export async function agreementOf(services: Services, named: NamedPolicy): Promise<StageAgreement[]> {
  const counts = new Map((await findAgreement(services.db, named.name)).map((row) => [row.stage, row]));
  return named.policy.stages.flatMap((stage) => {
    if (stage.type !== 'ai' || stage.mode === 'decide') return [];
    const row = counts.get(stage.name);
    const agreed = Number(row?.agreed ?? 0);
    const disagreed = Number(row?.disagreed ?? 0);
    const decided = agreed + disagreed;
    return [
      {
        stage: stage.name,
        mode: stage.mode,
        agreed,
        disagreed,
        escalated: Number(row?.escalated ?? 0),
        agreement: decided === 0 ? null : agreed / decided,
      },
    ];
  });
}
