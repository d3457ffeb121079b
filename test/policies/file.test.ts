import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SignoffError } from '../../src/core/errors.js';
import { loadRoutes } from '../../src/intake/routing.js';
import { parsePolicies } from '../../src/policies/catalog.js';
import { runCli } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'signoff-policies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `policies:
  prod-deploy:
    description: Production deploys
    timeout: 24h
    stages:
      - name: docs
        type: rule
        rules:
          - when: "allMatch(metadata.changedFiles, ['**/*.md', 'docs/**'])"
            then: approve
      - name: leads
        type: human
        gates:
          - { approvers: [group:tech-leads], required: 1 }
          - { approvers: [pm@example.com] }
        remindAfter: 4h
        escalateAfter: 12h
        escalateTo: [cto@example.com]
`;

const BAD = `policies:
  prod-deploy:
    stages:
      - name: docs
        type: rule
        rules:
          - when: "allMatch(metadata.changedFiles, ['**/*.md'"
            then: approve
      - name: docs
        type: human
        gates:
          - approvers: [lead@example.com, pm@example.com]
            required: 3
        remindEvery: 1h
  ai-only:
    stages:
      - { name: ai, type: ai, mode: shadow }
`;

function mistakes(source: string, options = { aiConfigured: false }): string {
  try {
    parsePolicies(source, 'policies.yaml', options);
  } catch (error) {
    expect(error).toBeInstanceOf(SignoffError);
    expect((error as SignoffError).code).toBe('invalid_input');
    return (error as Error).message;
  }
  throw new Error('expected the policies file to be refused');
}

describe('the policies file', () => {
  it('compiles named policies with their defaults', () => {
    const catalog = parsePolicies(GOOD, 'policies.yaml', { aiConfigured: false });
    const named = catalog.get('prod-deploy');
    expect(named?.timeoutMs).toBe(24 * 3_600_000);
    expect(named?.policy).toMatchObject({ name: 'prod-deploy', allowSelfApproval: false });
    expect(named?.policy.stages.map((s) => s.name)).toEqual(['docs', 'leads']);
    expect(named?.policy.stages[1]).toMatchObject({
      remindAfterMs: 4 * 3_600_000,
      escalateTo: ['cto@example.com'],
    });
  });

  it('names the path and line of every mistake the schema cannot see', () => {
    const message = mistakes(BAD);
    expect(message).toContain('/policies/prod-deploy/stages/0/rules/0/when (line 7):');
    expect(message).toContain('/policies/prod-deploy/stages/1/name (line 9): another stage is named "docs"');
    expect(message).toContain(
      '/policies/prod-deploy/stages/1/gates/0/required (line 13): required (3) is more',
    );
    expect(message).toContain('/policies/prod-deploy/stages/1/remindEvery (line 14): needs remindAfter');
    expect(message).toContain('/policies/ai-only/stages/0/type (line 17): ai stages need an AI endpoint');
    expect(message).toContain(
      '/policies/ai-only/stages/0/mode (line 17): with mode shadow this stage only records',
    );
  });

  it('names the path and line of schema mistakes: unknown fields and kinds', () => {
    const message = mistakes(`policies:
  p:
    stages:
      - type: human
        gates: [{ approvers: [a@example.com] }]
        onTimout: reject
      - type: robot
`);
    expect(message).toContain(
      '/policies/p/stages/0 (line 4): must NOT have additional properties "onTimout"',
    );
    expect(message).toContain('/policies/p/stages/1 (line 7): type "robot" is not one of the known kinds');
  });

  it('names the path and line of a condition RE2 cannot run or that costs too much', () => {
    const message = mistakes(`policies:
  p:
    stages:
      - type: rule
        rules:
          - when: "title.matches('^(?!wip)')"
            then: approve
          - when: "metadata.a.all(x, metadata.b.//\\n exists(y, x == y))"
            then: approve
`);
    expect(message).toContain('/policies/p/stages/0/rules/0/when (line 6):');
    expect(message).toContain('/policies/p/stages/0/rules/1/when (line 8):');
  });

  it('lets routes name a policy only if it exists', () => {
    const catalog = parsePolicies(GOOD, 'policies.yaml', { aiConfigured: false });
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      'routes:\n  - match: { pipeline: web }\n    policy: prod-deploy\n  - policy: nope\n',
    );
    expect(() => loadRoutes(routes, catalog)).toThrow(
      /\/routes\/1\/policy \(line 4\): there is no policy named "nope"/,
    );
  });

  it('stops the start with the mistakes, before anything listens', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, BAD);
    const result = await runCli(['serve'], {
      SIGNOFF_POLICIES: file,
      SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'signoff.db')}`,
      SIGNOFF_PORT: '0',
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('is not a valid policies file');
    expect(result.stderr).toContain('(line 7)');
  });
});
