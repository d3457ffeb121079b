import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_TEST_CREDENTIALS, startAwsEndpoint } from '../helpers/aws.js';
import { launchBrowser, startWebHarness, type WebHarness } from '../helpers/browser.js';
import { runCli } from '../helpers/process.js';
import { eventually, startReceiver } from '../helpers/receiver.js';
import {
  buttonClick,
  type SlackStandIn,
  signedInteraction,
  slackEnv,
  startSlack,
  viewSubmission,
} from '../helpers/slack.js';
import { linkIn, startSmtpServer } from '../helpers/smtp.js';

/*
 * A stage that asks approvers for inputs: a required enum and a bounded number. Every channel
 * refuses an approval without them in the same words; the values given reach the waiting side.
 */

const LEAD_SLACK = 'U01LEAD';
const MISSING = '"Environment" is required to approve.';
const TOO_MANY = '"replicas" must be a whole number from 1 to 10.';

let browser: Browser;
let h: WebHarness;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let slack: SlackStandIn;
let aws: Awaited<ReturnType<typeof startAwsEndpoint>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let lead: string;

beforeAll(async () => {
  [browser, smtp, slack, aws, receiver] = await Promise.all([
    launchBrowser(),
    startSmtpServer(),
    startSlack({ users: [{ id: LEAD_SLACK, email: 'lead@example.com' }] }),
    startAwsEndpoint(),
    startReceiver(),
  ]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SFN: aws.url,
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'eu-west-1',
  });
  h = await startWebHarness({ SIGNOFF_SMTP_URL: smtp.url, ...slackEnv(slack) });
  lead = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await Promise.all([smtp?.close(), slack?.close(), aws?.stop(), receiver?.stop()]);
});

const DEPLOY_STAGE = {
  name: 'deploy',
  type: 'human',
  gates: [{ approvers: ['lead@example.com'] }],
  inputs: {
    type: 'object',
    required: ['environment'],
    properties: {
      environment: {
        type: 'string',
        title: 'Environment',
        enum: ['staging', 'production'],
        description: 'Where the pipeline deploys',
      },
      replicas: { type: 'integer', minimum: 1, maximum: 10 },
    },
  },
};

async function create(callback: Record<string, unknown>): Promise<{ id: string; title: string }> {
  const title = `Deploy with inputs ${Math.random().toString(36).slice(2, 8)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: { title, callback, stages: [DEPLOY_STAGE], slack: { channel: '#deploys' } },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id, title };
}

async function approvalOf(id: string) {
  return (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
}

/** Clicks Approve on the approval's Slack message; answers the modal it opens. */
async function openSlackModal(title: string) {
  const message = await eventually(() => {
    const found = slack.messages.find((m) => m.text.includes(title));
    expect(found).toBeDefined();
    return found;
  });
  if (!message) throw new Error('no Slack message');
  const click = signedInteraction(buttonClick(message, LEAD_SLACK, 'signoff.approve'));
  const clicked = await h.api({
    method: 'POST',
    url: '/integrations/slack/interactions',
    token: null,
    ...click,
  });
  expect(clicked.statusCode, clicked.body).toBe(200);
  const [opened] = await slack.waitForCalls(
    (c) => c.method === 'views.open' && String(c.args.view).includes(title),
  );
  const view = JSON.parse(String(opened?.args.view)) as {
    callback_id: string;
    private_metadata: string;
    blocks: { block_id?: string; label?: { text: string } }[];
  };
  return {
    view,
    submit: async (values: Record<string, Record<string, Record<string, unknown>>>) => {
      const payload = viewSubmission(view.callback_id, view.private_metadata, LEAD_SLACK, values);
      const res = await h.api({
        method: 'POST',
        url: '/integrations/slack/interactions',
        token: null,
        ...signedInteraction(payload),
      });
      expect(res.statusCode).toBe(200);
      return res.body ? res.json() : {};
    },
  };
}

describe('approver inputs', () => {
  it('are refused when missing with the same words on every channel, and reach the webhook and signoff wait', async () => {
    const { id, title } = await create({ type: 'webhook', url: receiver.url });

    // The API.
    const api = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(api.statusCode).toBe(400);
    expect(api.json().error).toMatchObject({ code: 'invalid_input', message: MISSING });
    const outOfBounds = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve', inputs: { environment: 'staging', replicas: 11 } },
    });
    expect(outOfBounds.json().error).toMatchObject({ code: 'invalid_input', message: TOO_MANY });

    // The mailed link, scripted with JSON.
    const [mail] = await smtp.waitForMails((m) => m.to === 'lead@example.com' && m.subject.includes(title));
    const link = new URL(linkIn(mail as NonNullable<typeof mail>));
    const byLink = await h.api({
      method: 'POST',
      url: link.pathname,
      token: null,
      headers: { accept: 'application/json' },
      payload: { verdict: 'approve' },
    });
    expect(byLink.statusCode).toBe(400);
    expect(byLink.json().error).toMatchObject({ code: 'invalid_input', message: MISSING });

    // Slack: the modal asks for each input; an empty submission is refused beside the field.
    const modal = await openSlackModal(title);
    expect(modal.view.blocks.map((b) => b.block_id)).toEqual(
      expect.arrayContaining(['input.environment', 'input.replicas', 'comment']),
    );
    expect(await modal.submit({})).toEqual({
      response_action: 'errors',
      errors: { 'input.environment': MISSING },
    });

    // The pages: the link page and the signed-in page draw the form and refuse with the same words.
    const context = await h.signedIn(browser, 'lead@example.com');
    const page = await context.newPage();
    for (const url of [link.href, `${h.url}/approvals/${id}`]) {
      await page.goto(url);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText(MISSING).waitFor();
    }
    expect((await approvalOf(id)).status).toBe('pending');

    // Filled in on the page, the values are recorded and go to the webhook and to signoff wait.
    await page.goto(`${h.url}/approvals/${id}`);
    await page.getByLabel('Environment').selectOption('production');
    await page.getByLabel('replicas').fill('3');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'Your approval is recorded' }).waitFor();
    // The timeline shows what was filled in, with the verdict.
    expect(await page.locator('#timeline').innerText()).toContain(
      'lead@example.com approved · environment=production, replicas=3',
    );
    await context.close();

    const decided = await approvalOf(id);
    expect(decided).toMatchObject({
      status: 'approved',
      inputs: { environment: 'production', replicas: 3 },
      decisions: [
        { actor: 'lead@example.com', via: 'ui', inputs: { environment: 'production', replicas: 3 } },
      ],
    });
    const [hook] = await eventually(() => {
      const found = receiver.received.filter((r) => JSON.parse(r.body).type === 'approval.decided');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(JSON.parse(hook?.body ?? '{}').data.inputs).toEqual({ environment: 'production', replicas: 3 });
    const waited = await runCli(['wait', id, '--json'], { SIGNOFF_URL: h.url, SIGNOFF_TOKEN: h.adminKey });
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout).inputs).toEqual({ environment: 'production', replicas: 3 });
  });

  it('given in the Slack modal, reach the Step Functions output', async () => {
    const taskToken = `task-inputs-${Math.random().toString(36).slice(2)}`;
    const { id, title } = await create({ type: 'stepfunctions', taskToken });
    const modal = await openSlackModal(title);
    expect(
      await modal.submit({
        'input.environment': { value: { type: 'static_select', selected_option: { value: 'staging' } } },
        'input.replicas': { value: { type: 'number_input', value: '11' } },
      }),
    ).toEqual({ response_action: 'errors', errors: { 'input.replicas': TOO_MANY } });
    expect(
      await modal.submit({
        'input.environment': { value: { type: 'static_select', selected_option: { value: 'staging' } } },
        'input.replicas': { value: { type: 'number_input', value: '2' } },
        comment: { comment: { type: 'plain_text_input', value: 'canary first' } },
      }),
    ).toEqual({});
    expect(await approvalOf(id)).toMatchObject({
      status: 'approved',
      decisions: [{ via: 'slack', comment: 'canary first', inputs: { environment: 'staging', replicas: 2 } }],
    });
    const [call] = await eventually(() => {
      const found = aws.calls.filter((c) => c.body.taskToken === taskToken);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(call?.target).toBe('AWSStepFunctions.SendTaskSuccess');
    expect(JSON.parse(call?.body.output as string)).toMatchObject({
      approved: true,
      inputs: { environment: 'staging', replicas: 2 },
    });
  });
});
