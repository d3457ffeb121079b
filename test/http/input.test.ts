import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidatorCompiler } from '../../src/http/validation.js';
import { findUnacceptableText } from '../../src/input-rules.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  // The default body limit: these inputs all fit under it.
  h = await startHarness({}, { workers: false });
});
afterAll(async () => h.close());

async function countApprovals() {
  const row = await h.signoff.services.db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Posts a create body given as JSON text (so that depth is not limited by the test's own JSON.stringify). */
function createRaw(payload: string, headers: Record<string, string> = {}) {
  return h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function createWith(overrides: Record<string, unknown>, headers: Record<string, string> = {}) {
  return createRaw(JSON.stringify(approvalBody(overrides)), headers);
}

/** Metadata nested `depth` objects deep, as JSON text. */
function nestedMetadata(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

async function expectRefused(res: { statusCode: number; json(): { error: { code: string } } }) {
  expect(res.statusCode).toBe(400);
  expect(res.json().error.code).toBe('invalid_input');
}

describe('metadata', () => {
  it('nested thousands of levels deep is refused, and listing keeps working for everyone', async () => {
    const before = await countApprovals();
    const body = JSON.stringify(approvalBody({ metadata: { x: 0 } })).replace(
      '{"x":0}',
      nestedMetadata(4_000),
    );
    expect(body.length).toBeLessThan(65_536);
    await expectRefused(await createRaw(body));
    expect(await countApprovals()).toBe(before);
    const listed = await h.api({ method: 'GET', url: '/v1/approvals' });
    expect(listed.statusCode).toBe(200);
  });

  it('is taken up to 8 levels deep, 100 keys in all and 16 KiB', async () => {
    const deepest = JSON.parse(nestedMetadata(8));
    const hundredKeys = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [
        `k${i}`,
        Object.fromEntries(Array.from({ length: 9 }, (_, j) => [`k${j}`, j])),
      ]),
    );
    const nearly16KiB = { text: 'x'.repeat(16 * 1024 - 20) };
    for (const metadata of [deepest, hundredKeys, nearly16KiB]) {
      const res = await createWith({ metadata });
      expect(res.statusCode).toBe(201);
      expect(res.json().metadata).toEqual(metadata);
    }
  });

  it.each([
    ['9 levels deep', JSON.parse(nestedMetadata(9))],
    ['nested in lists', { a: [[[[[[[[1]]]]]]]] }],
    [
      '101 keys in all',
      { ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 1])), n: {} },
    ],
    [
      '101 keys spread over levels',
      { a: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])) },
    ],
    ['more than 16 KiB', { text: 'x'.repeat(16 * 1024) }],
    ['more than 16 KiB of multi-byte text', { text: 'é'.repeat(8 * 1024) }],
  ])('is refused when %s', async (_name, metadata) => {
    const before = await countApprovals();
    await expectRefused(await createWith({ metadata }));
    expect(await countApprovals()).toBe(before);
  });
});

describe('control characters in text fields', () => {
  const created = async () =>
    (await createWith({ title: 'for decisions', approvers: ['lead@example.com'] })).json();

  it.each([
    ['a NUL in the title', { title: 'Deploy\u0000web' }],
    ['a NUL in the description', { description: 'v2\u0000' }],
    ['an escape in the description', { description: '\u001b[31mred' }],
    ['a DEL in the description', { description: 'a\u007fb' }],
    ['a C1 control in the description', { description: 'a\u0085b' }],
    ['a newline in the title', { title: 'Deploy\nweb' }],
    ['a NUL in the link', { link: 'https://example.com/\u0000' }],
    ['a NUL in the requester', { requester: 'dev\u0000@example.com' }],
    ['a NUL in an approver', { approvers: ['lead\u0000@example.com'] }],
    ['a NUL in the key', { key: 'web/\u0000' }],
    ['a NUL in a metadata value', { metadata: { pipeline: 'web\u0000' } }],
    ['a NUL in a nested metadata value', { metadata: { a: { b: ['ok', 'x\u0000'] } } }],
    ['a NUL in a metadata key', { metadata: { 'pipe\u0000line': 'web' } }],
    ['a newline in a metadata key', { metadata: { 'pipe\nline': 'web' } }],
    [
      'a NUL in a rule reason',
      {
        approvers: undefined,
        stages: [{ type: 'rule', rules: [{ when: 'true', then: 'pass', reason: 'ok\u0000' }] }],
      },
    ],
    [
      'a NUL in a CodePipeline callback',
      {
        callback: {
          type: 'codepipeline',
          pipelineName: 'web\u0000',
          stageName: 'Production',
          actionName: 'Approve',
          token: 't',
        },
      },
    ],
  ])('are refused in the create body: %s', async (_name, overrides) => {
    const before = await countApprovals();
    await expectRefused(await createWith(overrides));
    expect(await countApprovals()).toBe(before);
  });

  it('are refused in a header, a path parameter and a query', async () => {
    await expectRefused(await createWith({}, { 'idempotency-key': 'deploy-\u0000' }));
    await expectRefused(await h.api({ method: 'GET', url: '/v1/approvals/apr_%00' }));
    await expectRefused(await h.api({ method: 'GET', url: '/v1/approvals?cursor=%00' }));
    await expectRefused(
      await h.api({ method: 'GET', url: '/d/%00', headers: { accept: 'application/json' } }),
    );
  });

  it('are refused in a decision comment and a cancel reason', async () => {
    const approval = await created();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    await expectRefused(
      await h.api({
        method: 'POST',
        url: `/v1/approvals/${approval.id}/decisions`,
        payload: { verdict: 'approve', comment: 'fine\u0000' },
        token: lead,
      }),
    );
    await expectRefused(
      await h.api({
        method: 'POST',
        url: `/v1/approvals/${approval.id}/cancel`,
        payload: { reason: '\u0000' },
      }),
    );
    const still = await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` });
    expect(still.json()).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('leave tabs and line breaks alone where text runs over several lines', async () => {
    const description = 'Changes:\r\n\t- one\n\t- two';
    const res = await createWith({ description, metadata: { notes: 'a\nb\tc' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ description, metadata: { notes: 'a\nb\tc' } });
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${res.json().id}/decisions`,
      payload: { verdict: 'approve', comment: 'Looks good.\nShip it.' },
      token: lead,
    });
    expect(decided.statusCode).toBe(201);
    expect(decided.json().decisions[0].comment).toBe('Looks good.\nShip it.');
  });
});

describe('where a control character is', () => {
  it('is told as a JSON Pointer, escaped, to the string or to the object with the key', () => {
    expect(findUnacceptableText({ metadata: { a: { b: ['ok', 'x\u0000'] } } })).toEqual({
      path: '/metadata/a/b/1',
      inKey: false,
      problem: 'holds a control character',
    });
    expect(findUnacceptableText({ metadata: { 'pi/pe~': { 'k\u0000': 1 } } })).toEqual({
      path: '/metadata/pi~1pe~0',
      inKey: true,
      problem: 'has a key with a control character',
    });
    expect(findUnacceptableText('a\u0000')).toMatchObject({ path: '', inKey: false });
    expect(findUnacceptableText({ a: ['ok', 'x\ud800'] })).toMatchObject({
      path: '/a/1',
      problem: expect.stringContaining('lone UTF-16 surrogate'),
    });
    expect(findUnacceptableText({ title: 'Deploy web 🚀', tags: ['a', 'b'], n: 1 })).toBeUndefined();
  });
});

describe('query and path text', () => {
  const compile = createValidatorCompiler();
  const check = (schema: object, input: object) =>
    (compile({ schema, httpPart: 'querystring', method: 'GET', url: '/' }) as (input: unknown) => unknown)(
      input,
    );

  it('is converted where the schema wants other than text, and left as sent where it wants text', () => {
    expect(check(Type.Object({ limit: Type.Integer() }), { limit: '5' })).toEqual({ value: { limit: 5 } });
    expect(check(Type.Object({ tag: Type.Array(Type.String()) }), { tag: 'a' })).toEqual({
      value: { tag: ['a'] },
    });
    expect(check(Type.Object({ id: Type.String() }), { id: '5' })).toEqual({ value: { id: '5' } });
  });
});

describe('text that is not what it seems', () => {
  // A lone surrogate is half of a UTF-16 pair: not text. PostgreSQL would store U+FFFD for it
  // while the answer and the audit event kept it, so it is refused wherever it is.
  it.each([
    ['the title', '{"title":"Deploy \\ud800 web","approvers":["lead@example.com"]}', '/title'],
    [
      'the description',
      '{"title":"t","description":"a\\udfffb","approvers":["lead@example.com"]}',
      '/description',
    ],
    [
      'a nested metadata value',
      '{"title":"t","approvers":["lead@example.com"],"metadata":{"a":{"b":["ok","\\ud83d"]}}}',
      '/metadata/a/b/1',
    ],
    [
      'a metadata key',
      '{"title":"t","approvers":["lead@example.com"],"metadata":{"k\\udc00":"v"}}',
      '/metadata',
    ],
  ])('refuses a lone surrogate in %s, naming where it is', async (_name, body, path) => {
    const before = await countApprovals();
    const res = await createRaw(body);
    await expectRefused(res);
    expect(res.json().error.details.issues).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining('surrogate') }),
    ]);
    expect(await countApprovals()).toBe(before);
  });

  it('refuses a lone surrogate in a decision comment', async () => {
    const approval = (await createWith({ title: 'for a comment' })).json();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${approval.id}/decisions`,
      payload: '{"verdict":"approve","comment":"fine \\ud800"}',
      headers: { 'content-type': 'application/json' },
      token: lead,
    });
    await expectRefused(res);
    expect(res.json().error.details.issues[0].path).toBe('/comment');
    const still = await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` });
    expect(still.json()).toMatchObject({ status: 'pending', decisions: [] });
  });

  // Bidirectional overrides, embeddings and isolates make `Deploy web-exe.txt` read otherwise; line
  // and paragraph separators break a line. Fields of one line refuse them.
  it.each([
    ['a right-to-left override in the title', { title: 'Approve invoice \u202Efdp.exe' }, '/title'],
    ['a left-to-right embedding in the title', { title: 'a\u202Ab' }, '/title'],
    ['a pop directional formatting in the title', { title: 'a\u202Cb' }, '/title'],
    ['a first-strong isolate in the title', { title: 'a\u2068b\u2069' }, '/title'],
    ['a line separator in the title', { title: 'Deploy\u2028web' }, '/title'],
    ['a paragraph separator in the title', { title: 'Deploy\u2029web' }, '/title'],
    ['an override in the key', { key: 'web/\u202Eprod' }, '/key'],
    ['an override in the link', { link: 'https://example.com/\u202Etxt.exe' }, '/link'],
    ['an override in an approver', { approvers: ['lead@\u202Eexample.com'] }, '/approvers/0'],
    ['an override in a metadata key', { metadata: { 'build\u202E': 'x' } }, '/metadata'],
  ])('refuses %s, saying why', async (_name, overrides, path) => {
    const before = await countApprovals();
    const res = await createWith(overrides);
    await expectRefused(res);
    const issue = res.json().error.details.issues.find((i: { path: string }) => i.path === path);
    expect(issue, JSON.stringify(res.json())).toBeDefined();
    expect(await countApprovals()).toBe(before);
  });

  it('says what a line may not hold', async () => {
    const res = await createWith({ title: 'a\u202Eb' });
    expect(res.json().error.message).toMatch(/bidirectional/);
  });

  it('keeps text that is what it seems, the same in the answer, the store and the audit trail', async () => {
    // Astral characters (a pair), right-to-left text with its marks, U+FFFD itself; and in text of
    // several lines, the bidirectional controls right-to-left writing uses.
    const title = 'Deploy 🚀 שלום\u200F v2 \uFFFD 𝔘';
    const description = 'مرحبا \u202Bنص\u202C\u2028next \u2066isolated\u2069';
    const metadata = { note: '\u202Eright to left\u202C', emoji: '👩‍💻' };
    const created = await createWith({ title, description, metadata });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ title, description, metadata });
    const read = (await h.api({ method: 'GET', url: `/v1/approvals/${created.json().id}` })).json();
    expect(read).toMatchObject({ title, description, metadata });
    const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${created.json().id}/audit` })).json();
    expect(audit.items).toEqual([
      expect.objectContaining({ type: 'approval.created', data: expect.objectContaining({ title }) }),
    ]);
  });
});
