import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line for any CI to read:
 * `tests: N passed, N failed[, N skipped][, N errors outside tests]`.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      const failedBefore = counts.failed;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed' || state === 'skipped') counts[state]++;
      }
      // A file that failed outside its tests (an import, a beforeAll) leaves them skipped: count it.
      if (module.state() === 'failed' && counts.failed === failedBefore) counts.failed++;
    }
    const skipped = counts.skipped ? `, ${counts.skipped} skipped` : '';
    // Errors outside any test (a timer that throws after its test ended) fail the run too.
    const errors = unhandledErrors.length ? `, ${unhandledErrors.length} errors outside tests` : '';
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed${skipped}${errors}\n`);
  }
}
