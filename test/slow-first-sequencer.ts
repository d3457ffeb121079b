import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Suites that take many seconds, longest first. Started before the rest, they run beside it
 * instead of after it; a clean checkout has no recorded durations for vitest to sort by.
 */
const SLOW_FIRST = ['test/scale/two-instances.test.ts', 'test/cli.test.ts', 'test/delivery/crash.test.ts'];

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
