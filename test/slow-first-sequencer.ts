import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Suites that take many seconds, longest first. Started before the rest, they run beside it
 * instead of after it; a clean checkout has no recorded durations for vitest to sort by.
 */
const SLOW_FIRST = [
  'test/scale/two-instances.test.ts',
  'test/cli/startup.test.ts',
  'test/cli/check.test.ts',
  'test/web/pages.test.ts',
  'test/auth/api-keys.test.ts',
  'test/cli.test.ts',
  'test/delivery/notification-failures.test.ts',
  'test/web/live.test.ts',
  'test/auth/oidc.test.ts',
  'test/delivery/crash.test.ts',
  'test/http/decision-links.test.ts',
  'test/governance/policy-versions.test.ts',
  'test/audit/chain.test.ts',
  'test/delivery/slow-target.test.ts',
  'test/http/timeouts.test.ts',
  'test/audit/evidence.test.ts',
  'test/surfaces/inputs.test.ts',
];

function rank(spec: TestSpecification): number {
  const index = SLOW_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
  return index < 0 ? SLOW_FIRST.length : index;
}

/** Vitest's order (longest recorded first), with the known slow suites ahead of it. */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
