import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SignoffError } from '../../src/core/errors.js';
import { durationStats, nearestRank, sampleIds } from '../../src/core/evidence-summary.js';
import { csvCell } from '../../src/governance/evidence-csv.js';
import { evidenceRequest } from '../../src/governance/evidence-period.js';
import { verdictsByApprover } from '../../src/governance/evidence-totals.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function refusal(input: Parameters<typeof evidenceRequest>[0]): string[] {
  try {
    evidenceRequest(input);
  } catch (error) {
    expect((error as SignoffError).code).toBe('invalid_input');
    const issues = (error as SignoffError).details?.issues as { path: string }[] | undefined;
    return (issues ?? []).map((i) => i.path);
  }
  throw new Error('expected the request to be refused');
}

describe('the evidence figures', () => {
  it('takes percentiles by nearest rank: always a value that was measured', () => {
    expect(nearestRank([], 0.5)).toBeNull();
    expect(nearestRank([7], 0.9)).toBe(7);
    expect(nearestRank([1, 2, 3, 4], 0.5)).toBe(2);
    expect(durationStats([50, 10, 40, 20, 30, 60, 70, 80, 90, 100])).toEqual({
      decided: 10,
      medianMs: 50,
      p90Ms: 90,
    });
  });

  it('samples reproducibly: the same seed picks the same ids, whatever their order', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `apr_${i}`);
    const sample = sampleIds(ids, 5, 'q4', sha256Hex);
    expect(sample.size).toBe(5);
    expect(sampleIds([...ids].reverse(), 5, 'q4', sha256Hex)).toEqual(sample);
    expect(sampleIds(ids, 5, 'q3', sha256Hex)).not.toEqual(sample);
    expect(sampleIds(ids, 80, 'q4', sha256Hex).size).toBe(50);
  });
});

describe('the period of an evidence pack', () => {
  it('counts a day given as `to` whole, and an instant as its end', () => {
    expect(evidenceRequest({ from: '2026-10-01', to: '2026-12-31' })).toMatchObject({
      from: new Date('2026-10-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    expect(evidenceRequest({ from: '2026-10-01T08:00:00+02:00', to: '2026-10-01T18:00:00Z' })).toMatchObject({
      from: new Date('2026-10-01T06:00:00Z'),
      to: new Date('2026-10-01T18:00:00Z'),
    });
  });

  it('refuses what is not a day or an instant with its zone, an empty period, and a seed without a sample', () => {
    expect(refusal({ from: '2026-02-30', to: '2026-03-31' })).toEqual(['/from']);
    expect(refusal({ from: '2026-10-01T08:00:00', to: 'soon' })).toEqual(['/from', '/to']);
    expect(refusal({ from: '2026-10-02', to: '2026-10-01' })).toEqual(['/to']);
    expect(refusal({ from: '2026-10-01', to: '2026-10-31', sample: 0, seed: 'x' })).toEqual(['/sample']);
    expect(refusal({ from: '2026-10-01', to: '2026-10-31', seed: 'x' })).toEqual(['/seed']);
  });
});

describe('CSV cells', () => {
  it('quotes what must be quoted and keeps a spreadsheet from running a title as a formula', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a, "b"')).toBe('"a, ""b"""');
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
  });
});

describe('approvers who never reject', () => {
  it('stand out after five approvals without a rejection; rules, AI and timeouts are not people', () => {
    const decision = (decider: string, verdict: 'approve' | 'reject', deciderKind = 'person') =>
      ({ decider, verdict, deciderKind }) as unknown as Parameters<typeof verdictsByApprover>[0][number];
    const rows = verdictsByApprover([
      ...Array.from({ length: 5 }, () => decision('stamp@example.com', 'approve')),
      ...Array.from({ length: 4 }, () => decision('fresh@example.com', 'approve')),
      decision('careful@example.com', 'approve'),
      decision('careful@example.com', 'reject'),
      ...Array.from({ length: 9 }, () => decision('rule', 'approve', 'rule')),
    ]);
    expect(rows).toEqual([
      { approver: 'stamp@example.com', approved: 5, rejected: 0, neverRejects: true },
      { approver: 'fresh@example.com', approved: 4, rejected: 0, neverRejects: false },
      { approver: 'careful@example.com', approved: 1, rejected: 1, neverRejects: false },
    ]);
  });
});
