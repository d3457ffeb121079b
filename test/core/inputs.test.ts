import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../src/callbacks/outcome.js';
import { SignoffError } from '../../src/core/errors.js';
import { checkInputs, type InputSchema, inputsFromForm, mergedInputs } from '../../src/core/inputs.js';
import { parsePolicies } from '../../src/policies/catalog.js';
import { compileStages } from '../../src/policies/compile.js';

const SCHEMA: InputSchema = {
  required: ['environment', 'window'],
  properties: {
    environment: { type: 'string', enum: ['staging', 'production'] },
    window: { type: 'string', format: 'date' },
    ticket: { type: 'string', pattern: '^OPS-[0-9]+$', maxLength: 12 },
    replicas: { type: 'integer', minimum: 1, maximum: 10, default: 2 },
    ratio: { type: 'number', maximum: 1 },
    rollback: { type: 'boolean' },
  },
};

const problems = (given: Record<string, unknown>, verdict: 'approve' | 'reject' = 'approve') => {
  const checked = checkInputs(SCHEMA, given, verdict);
  return checked.ok ? [] : checked.problems.map((p) => p.message);
};

describe("an approver's inputs", () => {
  it('takes valid values and adds defaults', () => {
    expect(
      checkInputs(SCHEMA, { environment: 'staging', window: '2026-12-24', rollback: false }, 'approve'),
    ).toEqual({
      ok: true,
      values: { environment: 'staging', window: '2026-12-24', replicas: 2, rollback: false },
    });
  });

  it('names every problem, in the words every channel uses', () => {
    expect(problems({})).toEqual([
      '"environment" is required to approve.',
      '"window" is required to approve.',
    ]);
    expect(
      problems({
        environment: 'prod',
        window: '2026-02-30',
        ticket: 'JIRA-1',
        replicas: 2.5,
        ratio: 'half',
        rollback: 'yes',
        colour: 'blue',
      }),
    ).toEqual([
      'There is no input "colour".',
      '"environment" must be one of staging, production.',
      '"window" must be a date written YYYY-MM-DD.',
      '"ticket" must match ^OPS-[0-9]+$.',
      '"replicas" must be a whole number from 1 to 10.',
      '"ratio" must be a number of at most 1.',
      '"rollback" must be yes or no.',
    ]);
  });

  it('lets a rejection leave required inputs out, but not give bad ones', () => {
    expect(problems({}, 'reject')).toEqual([]);
    expect(problems({ replicas: 0 }, 'reject')).toEqual(['"replicas" must be a whole number from 1 to 10.']);
  });

  it('takes none where the stage asks for none', () => {
    expect(checkInputs(undefined, {}, 'approve')).toEqual({ ok: true, values: null });
    expect(checkInputs(undefined, { environment: 'x' }, 'approve')).toMatchObject({ ok: false });
  });

  it('types form text by the schema, leaving what does not convert for the check to refuse', () => {
    const typed = inputsFromForm(SCHEMA, {
      environment: 'staging',
      replicas: '3',
      ratio: 'lots',
      window: '',
    });
    expect(typed).toEqual({ environment: 'staging', replicas: 3, ratio: 'lots', rollback: false });
    expect(problems({ ...typed, window: '2026-12-24' })).toEqual(['"ratio" must be a number of at most 1.']);
  });

  it('merges approving decisions in order for the waiting side', () => {
    expect(
      mergedInputs([
        { verdict: 'approve', inputs: { environment: 'staging', replicas: 2 } },
        { verdict: 'reject', inputs: { environment: 'nowhere' } },
        { verdict: 'approve', inputs: { environment: 'production' } },
      ]),
    ).toEqual({ environment: 'production', replicas: 2 });
  });
});

describe('inputs in a policy', () => {
  it('refuses keywords that do not fit their type, a bad pattern, a default that does not fit, an unknown required', () => {
    const source = `policies:
  deploy:
    stages:
      - type: human
        gates: [{ approvers: [lead@example.com] }]
        inputs:
          required: [environment, missing]
          properties:
            environment: { type: number, enum: [a] }
            ticket: { type: string, pattern: "(" , minimum: 1 }
            replicas: { type: integer, maximum: 3, default: 5 }
`;
    let message = '';
    try {
      parsePolicies(source, 'policies.yaml', { aiConfigured: false });
    } catch (error) {
      expect(error).toBeInstanceOf(SignoffError);
      message = (error as Error).message;
    }
    expect(message).toContain('inputs/properties/environment/enum (line 9): only a string input takes enum');
    expect(message).toContain(
      'inputs/properties/ticket/minimum (line 10): only a number input takes minimum',
    );
    expect(message).toContain('inputs/properties/ticket/pattern (line 10): is not a regular expression');
    expect(message).toContain('inputs/properties/replicas/default (line 11): does not fit');
    expect(message).toContain('inputs/required/1 (line 7): names no input of properties: missing');
  });
});

describe('inputs for callbacks that carry only a summary', () => {
  it('name them in the one line CodePipeline and GitHub get', () => {
    const outcome = outcomeOf({
      id: 'apr_1',
      status: 'approved',
      reason: 'Approved by lead@example.com',
      decisions: [],
      inputs: { environment: 'production', replicas: 3 },
    } as unknown as Parameters<typeof outcomeOf>[0]);
    expect(outcome.summary).toBe(
      'signoff apr_1 approved: Approved by lead@example.com · inputs: environment=production, replicas=3',
    );
    expect(outcome.inputs).toEqual({ environment: 'production', replicas: 3 });
  });
});

describe('inputs from a request', () => {
  it('may not carry a pattern (a regular expression from a request could hang the server), and names like constructor are plain names', () => {
    const stage = (inputs: unknown) => [
      { name: 'review', type: 'human' as const, gates: [{ approvers: ['lead@example.com'] }], inputs },
    ];
    const fromRequest = compileStages(
      stage({
        properties: {
          ticket: { type: 'string', pattern: '^(a+)+$', default: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' },
        },
      }) as never,
      ['stages'],
      { aiConfigured: false },
    );
    expect(fromRequest.issues).toEqual([
      {
        path: ['stages', 0, 'inputs', 'properties', 'ticket', 'pattern'],
        message: 'is allowed only in a named policy (the policies file)',
      },
    ]);
    const field: InputSchema['properties'][string] = { type: 'string' };
    const schema: InputSchema = { properties: Object.fromEntries([['constructor', field]]) };
    expect(checkInputs(schema, {}, 'approve')).toEqual({ ok: true, values: {} });
    expect(inputsFromForm(schema, {})).toEqual({});
  });
});
