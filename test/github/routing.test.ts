import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runIdOfCallbackUrl } from '../../src/intake/github.js';
import { findRoute, loadRouting } from '../../src/intake/routing.js';
import { loadPolicies } from '../../src/policies/catalog.js';

function write(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'signoff-github-routes-')), name);
  writeFileSync(path, text);
  return path;
}

describe('the github section of the routing file', () => {
  const policies = loadPolicies(
    write(
      'policies.yaml',
      `policies:
  production:
    stages:
      - { name: team, type: human, gates: [{ approvers: [lead@example.com] }] }
`,
    ),
    { aiConfigured: false },
  );

  it('routes repositories and environments by pattern, to approvers or a named policy', () => {
    const routing = loadRouting(
      write(
        'routes.yaml',
        `github:
  routes:
    - match: { repository: "acme/*", environment: production }
      policy: production
    - match: { repository: acme/web }
      approvers: [lead@example.com]
  people:
    OctoCat: dev@example.com
`,
      ),
      policies,
    );
    expect(routing.routes).toEqual([]);
    const { routes, people } = routing.github;
    expect(findRoute(routes, { repository: 'acme/api', environment: 'production' })?.policy).toBe(
      'production',
    );
    expect(findRoute(routes, { repository: 'acme/web', environment: 'staging' })?.approvers).toEqual([
      'lead@example.com',
    ]);
    expect(findRoute(routes, { repository: 'acme/api', environment: 'staging' })).toBeUndefined();
    expect(findRoute(routes, { repository: 'other/web', environment: 'production' })).toBeUndefined();
    // Logins are case-insensitive on GitHub.
    expect(people.get('octocat')).toBe('dev@example.com');
  });

  it('is checked at start like any route: a missing policy, a gate that cannot pass, a bad key', () => {
    const unknownPolicy = write(
      'routes.yaml',
      `github:
  routes:
    - match: { repository: acme/web }
      policy: nonexistent
`,
    );
    expect(() => loadRouting(unknownPolicy, policies)).toThrow(/\/github\/routes\/0\/policy/);
    const impossible = write(
      'routes.yaml',
      `github:
  routes:
    - match: { repository: acme/web }
      approvers: [lead@example.com]
      required: 2
`,
    );
    expect(() => loadRouting(impossible, policies)).toThrow(/\/github\/routes\/0\/required/);
    const awsKey = write(
      'routes.yaml',
      `github:
  routes:
    - match: { pipeline: web }
      approvers: [lead@example.com]
`,
    );
    expect(() => loadRouting(awsKey, policies)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    const badPerson = write(
      'routes.yaml',
      `github:
  routes: []
  people:
    octocat: not-an-address
`,
    );
    expect(() => loadRouting(badPerson, policies)).toThrow(/\/github\/people\/octocat/);
  });
});

describe('the callback URL of an event', () => {
  const api = 'https://api.github.com';
  it('is believed only as the run endpoint of the same repository under the API base', () => {
    expect(
      runIdOfCallbackUrl(`${api}/repos/acme/web/actions/runs/42/deployment_protection_rule`, api, 'acme/web'),
    ).toBe(42);
    for (const url of [
      'https://api.github.com.evil.example/repos/acme/web/actions/runs/42/deployment_protection_rule',
      'http://api.github.com/repos/acme/web/actions/runs/42/deployment_protection_rule',
      `${api}/repos/acme/other/actions/runs/42/deployment_protection_rule`,
      `${api}/repos/acme/web/actions/runs/42/deployment_protection_rule?x=1`,
      `${api}/repos/acme/web/actions/runs/0/deployment_protection_rule`,
      `${api}/repos/acme/web/actions/runs/42/approve`,
    ])
      expect(() => runIdOfCallbackUrl(url, api, 'acme/web'), url).toThrow(
        expect.objectContaining({ code: 'invalid_input' }),
      );
  });
});

describe('the GitHub settings', () => {
  it('go together, and are checked at start', () => {
    const complete = {
      SIGNOFF_GITHUB_WEBHOOK_SECRET: 'a-webhook-secret-of-some-length',
      SIGNOFF_GITHUB_APP_ID: '12345',
      SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE: '/etc/signoff/app.pem',
    };
    expect(loadConfig(complete)).toMatchObject({
      githubAppId: '12345',
      githubApiUrl: 'https://api.github.com',
    });
    expect(
      loadConfig({ ...complete, SIGNOFF_GITHUB_API_URL: 'https://ghe.example.com/api/v3/' }).githubApiUrl,
    ).toBe('https://ghe.example.com/api/v3');
    for (const env of [
      { ...complete, SIGNOFF_GITHUB_APP_ID: undefined },
      { ...complete, SIGNOFF_GITHUB_APP_ID: 'my-app' },
      { ...complete, SIGNOFF_GITHUB_WEBHOOK_SECRET: 'short' },
      { ...complete, SIGNOFF_GITHUB_API_URL: 'https://user:pass@ghe.example.com/api/v3' },
    ])
      expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
});

describe('the examples', () => {
  /** The YAML block that follows `label` in a markdown file. */
  function blockAfter(markdown: string, label: string): string {
    const at = markdown.indexOf(label);
    const block = /```yaml\n([\s\S]*?)```/.exec(markdown.slice(at));
    if (at < 0 || !block?.[1]) throw new Error(`no YAML block after ${label}`);
    return block[1];
  }

  it("docs/github.md's two-gate example loads, and routes production to its policy", () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/github.md', import.meta.url)), 'utf8');
    const example = doc.slice(doc.indexOf('## 5.'));
    const catalog = loadPolicies(write('policies.yaml', blockAfter(example, '`policies.yaml`:')), {
      aiConfigured: false,
    });
    const production = catalog.get('github-production');
    expect(production?.policy.stages[0]).toMatchObject({ type: 'human' });
    expect(production?.policy.stages[0]?.type === 'human' && production.policy.stages[0].gates).toHaveLength(
      2,
    );
    const { github } = loadRouting(write('routes.yaml', blockAfter(example, '`routes.yaml`:')), catalog);
    expect(findRoute(github.routes, { repository: 'acme/web', environment: 'production' })?.policy).toBe(
      'github-production',
    );
    expect(github.people.get('octocat')).toBe('dev@example.com');
  });

  it('examples/routes.yaml routes GitHub deployments', () => {
    const { github } = loadRouting(fileURLToPath(new URL('../../examples/routes.yaml', import.meta.url)));
    expect(findRoute(github.routes, { repository: 'acme/web', environment: 'production' })?.required).toBe(2);
    expect(findRoute(github.routes, { repository: 'acme/web', environment: 'preview' })).toBeUndefined();
  });
});
