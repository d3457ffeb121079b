import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { workers: false });
});
afterAll(async () => h.close());

const URL_HINT = 'an http(s) URL like https://ci.example.com/runs/42';

describe('a refused create tells people what is expected', () => {
  it.each<[string, Record<string, unknown>, { path: string; message: string }[]]>([
    [
      'a duration in words',
      { timeout: '2 weeks' },
      [{ path: '/timeout', message: 'timeout must be a duration like 90s, 15m, 1h or 7d' }],
    ],
    [
      'a zero duration',
      { timeout: 0 },
      [{ path: '/timeout', message: 'timeout must be a duration like 90s, 15m, 1h or 7d' }],
    ],
    [
      'a timeout longer than the server allows',
      { timeout: '31d' },
      [
        {
          path: '/timeout',
          message: 'timeout must be at most 30d, the longest this server allows (SIGNOFF_MAX_TIMEOUT)',
        },
      ],
    ],
    [
      'a requester without domain',
      { requester: 'bob' },
      [{ path: '/requester', message: 'requester must be an email address like user@example.com' }],
    ],
    [
      'an approver that is no identity',
      { approvers: ['bob'] },
      [
        {
          path: '/approvers/0',
          message: 'approvers[0] must be an identity like user@example.com or group:NAME',
        },
      ],
    ],
    [
      'a link that is not http',
      { link: 'ftp://example.com/x' },
      [{ path: '/link', message: `link must be ${URL_HINT}` }],
    ],
    ['an empty title', { title: '' }, [{ path: '/title', message: 'title must not be empty' }]],
    [
      'a title of two lines',
      { title: 'a\nb' },
      [
        {
          path: '/title',
          message:
            'title must be a single line of text, without tabs, line breaks, control characters or bidirectional controls',
        },
      ],
    ],
    ['no title', { title: undefined }, [{ path: '/title', message: 'title is required' }]],
    ['an unknown field', { nope: 1 }, [{ path: '/', message: 'body has an unknown field "nope"' }]],
    [
      'a fraction where a count goes',
      { required: 1.5 },
      [{ path: '/required', message: 'required must be a whole number' }],
    ],
    ['too many required', { required: 51 }, [{ path: '/required', message: 'required must be at most 50' }]],
    [
      'metadata that is no object',
      { metadata: 'x' },
      [{ path: '/metadata', message: 'metadata must be an object' }],
    ],
    [
      'a webhook URL that is not one',
      { callback: { type: 'webhook', url: 'x' } },
      [{ path: '/callback/url', message: `callback.url must be ${URL_HINT}` }],
    ],
    [
      'an unknown callback type',
      { callback: { type: 'sms' } },
      [
        {
          path: '/callback',
          message: 'callback.type must be one of webhook, codepipeline, stepfunctions, cloudformation',
        },
      ],
    ],
    [
      'a CodePipeline callback missing fields',
      { callback: { type: 'codepipeline', pipelineName: 'p', stageName: 's', actionName: 'a' } },
      [{ path: '/callback/token', message: 'callback.token is required' }],
    ],
    [
      'an unknown stage type',
      { approvers: undefined, stages: [{ type: 'robot' }] },
      [{ path: '/stages/0', message: 'stages[0].type must be one of human, rule, ai' }],
    ],
    [
      'a stage without type',
      { approvers: undefined, stages: [{ gates: [] }] },
      [{ path: '/stages/0/type', message: 'stages[0].type is required' }],
    ],
    [
      'every problem of a stage at once',
      { approvers: undefined, stages: [{ type: 'human', gates: [{ approvers: ['x'] }], timeout: 'soon' }] },
      [
        {
          path: '/stages/0/gates/0/approvers/0',
          message: 'stages[0].gates[0].approvers[0] must be an identity like user@example.com or group:NAME',
        },
        {
          path: '/stages/0/timeout',
          message: 'stages[0].timeout must be a duration like 90s, 15m, 1h or 7d',
        },
      ],
    ],
  ])('%s', async (_case, overrides, issues) => {
    const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(overrides) });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('invalid_input');
    expect(error.details).toEqual({ in: 'body', issues });
    expect(error.message).toBe(`${issues.map((i) => i.message).join('; ')}.`);
  });

  it('tells a bad query parameter by name', async () => {
    const wait = await h.api({ method: 'GET', url: '/v1/approvals/apr_x/wait?timeout=forever' });
    expect(wait.json().error).toMatchObject({
      code: 'invalid_input',
      message: 'timeout must be a duration like 90s, 15m, 1h or 7d.',
      details: {
        in: 'query',
        issues: [{ path: '/timeout', message: 'timeout must be a duration like 90s, 15m, 1h or 7d' }],
      },
    });
    const list = await h.api({ method: 'GET', url: '/v1/approvals?status=done&limit=0' });
    expect(list.json().error.details.issues).toEqual([
      { path: '/status', message: 'status must be one of pending, approved, rejected, expired, cancelled' },
      { path: '/limit', message: 'limit must be at least 1' },
    ]);
  });

  it('never shows a schema pattern', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ requester: 'x', link: 'y', timeout: 'z', approvers: ['w'], key: 'a\nb' }),
    });
    const text = JSON.stringify(res.json().error);
    expect(text).not.toMatch(/must match pattern|\^|\$"|\\\\d|\[\^/);
    expect(res.json().error.details.issues).toHaveLength(5);
    expect(res.json().error.message).toMatch(/; and 2 more \(see details\)\.$/);
  });
});

describe('a refused body type says what to send', () => {
  it('on the API, for a body without a Content-Type and one of another type', async () => {
    const missing = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: JSON.stringify(approvalBody()),
    });
    expect(missing.statusCode).toBe(415);
    expect(missing.json().error).toMatchObject({
      code: 'unsupported_media_type',
      message: 'The body has no Content-Type: send JSON with Content-Type: application/json.',
      requestId: expect.stringMatching(/^req_/),
    });
    const text = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: 'title=x',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect(text.json().error).toMatchObject({
      code: 'unsupported_media_type',
      message: 'A body of type text/plain is not taken here: send JSON with Content-Type: application/json.',
    });
  });

  it('on a decision link, which takes a form too', async () => {
    const res = await h.api({
      method: 'POST',
      url: `/d/${'A'.repeat(43)}`,
      payload: 'verdict=approve',
      token: null,
      headers: { accept: 'application/json' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toMatchObject({
      code: 'unsupported_media_type',
      message:
        'The body has no Content-Type: send JSON with Content-Type: application/json, or a form with Content-Type: application/x-www-form-urlencoded.',
    });
  });
});

describe('the request id of an error', () => {
  it('is the reqId of the log line of that request, on the API and on decision pages', async () => {
    const lines: Record<string, unknown>[] = [];
    const logged = await startHarness(
      {},
      {
        workers: false,
        logger: createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) }),
      },
    );
    try {
      const answers = [
        await logged.api({ method: 'GET', url: '/v1/approvals/apr_missing' }),
        await logged.api({ method: 'GET', url: '/v1/approvals', token: 'sk_wrong' }),
        await logged.api({
          method: 'GET',
          url: '/d/no-such-token',
          headers: { accept: 'application/json' },
        }),
      ];
      for (const res of answers) {
        const { requestId } = res.json().error;
        expect(requestId).toMatch(/^req_/);
        const line = lines.find((l) => l.msg === 'request' && l.reqId === requestId);
        expect(line, `no log line with reqId ${requestId}`).toMatchObject({ status: res.statusCode });
      }
      expect(new Set(answers.map((r) => r.json().error.requestId)).size).toBe(3);
    } finally {
      await logged.close();
    }
  });
});
