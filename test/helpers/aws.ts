import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export const AWS_TEST_CREDENTIALS = {
  accessKeyId: 'AKIDSIGNOFFTEST',
  secretAccessKey: 'signoff-test-secret-key',
};

/** What the real services require of each call we make: target, JSON protocol version, fields. */
const OPERATIONS: Record<string, { service: string; contentType: string; required: string[] }> = {
  'CodePipeline_20150709.PutApprovalResult': {
    service: 'codepipeline',
    contentType: 'application/x-amz-json-1.1',
    required: ['pipelineName', 'stageName', 'actionName', 'result', 'token'],
  },
  'AWSStepFunctions.SendTaskSuccess': {
    service: 'states',
    contentType: 'application/x-amz-json-1.0',
    required: ['taskToken', 'output'],
  },
  'AWSStepFunctions.SendTaskFailure': {
    service: 'states',
    contentType: 'application/x-amz-json-1.0',
    required: ['taskToken'],
  },
  'AWSStepFunctions.SendTaskHeartbeat': {
    service: 'states',
    contentType: 'application/x-amz-json-1.0',
    required: ['taskToken'],
  },
};

export interface AwsCall {
  readonly target: string;
  readonly region: string;
  readonly body: Record<string, unknown>;
}

/** An AWS error answer: `{ status: 400, type: 'ApprovalAlreadyCompletedException' }`. */
export interface AwsFault {
  readonly status: number;
  readonly type: string;
}

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (data: Bytes) =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

class NodeSha256 {
  private readonly hash;
  constructor(secret?: Bytes) {
    this.hash = secret ? createHmac('sha256', toBuffer(secret)) : createHash('sha256');
  }
  update(data: Bytes) {
    this.hash.update(toBuffer(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** Recomputes the request's SigV4 signature with the test credentials; true when it matches. */
async function signatureMatches(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: string,
  scope: { region: string; service: string; signed: string[]; signature: string },
) {
  const signer = new SignatureV4({
    credentials: AWS_TEST_CREDENTIALS,
    region: scope.region,
    service: scope.service,
    sha256: NodeSha256,
  });
  const signedHeaders: Record<string, string> = {};
  for (const name of scope.signed) signedHeaders[name] = String(headers[name] ?? '');
  const [pathname, query] = path.split('?');
  const host = String(headers.host ?? '');
  const signed = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: host.split(':')[0] ?? host,
      port: Number(host.split(':')[1]),
      path: pathname ?? '/',
      query: Object.fromEntries(new URLSearchParams(query ?? '')),
      headers: signedHeaders,
      body,
    },
    { signingDate: parseAmzDate(String(headers['x-amz-date'])) },
  );
  return String(signed.headers.authorization ?? '').endsWith(`Signature=${scope.signature}`);
}

function parseAmzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return new Date(Number.NaN);
  return new Date(
    Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
}

/**
 * A local stand-in for the AWS JSON APIs signoff calls (CodePipeline, Step Functions). It checks
 * what the services check — a valid SigV4 signature with the test credentials, the target,
 * the JSON protocol version and the required fields — records the calls, and can fail on demand.
 */
export async function startAwsEndpoint() {
  const calls: AwsCall[] = [];
  const refused: string[] = [];
  let fault: ((call: AwsCall) => AwsFault | undefined) | undefined;
  let server: Server | undefined;
  let port = 0;

  const handle = async (method: string, url: string, headers: IncomingHttpHeaders, body: string) => {
    const target = String(headers['x-amz-target'] ?? '');
    const operation = OPERATIONS[target];
    if (method !== 'POST' || !operation) return { status: 400, type: 'UnknownOperationException' };
    if (headers['content-type'] !== operation.contentType)
      return { status: 400, type: 'SerializationException' };
    const auth =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        String(headers.authorization ?? ''),
      );
    if (!auth || auth[1] !== AWS_TEST_CREDENTIALS.accessKeyId || auth[4] !== operation.service)
      return { status: 403, type: 'MissingAuthenticationTokenException' };
    const [, , , region = '', service = '', signedList = '', signature = ''] = auth;
    if (
      !(await signatureMatches(method, url, headers, body, {
        region,
        service,
        signed: signedList.split(';'),
        signature,
      }))
    )
      return { status: 403, type: 'InvalidSignatureException' };
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { status: 400, type: 'SerializationException' };
    }
    const missing = operation.required.filter((field) => parsed[field] === undefined);
    if (missing.length > 0) return { status: 400, type: 'ValidationException' };
    const call = { target, region, body: parsed };
    const failure = fault?.(call);
    if (failure) return failure;
    calls.push(call);
    return { status: 200, type: undefined };
  };

  async function start() {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void handle(
          req.method ?? '',
          req.url ?? '/',
          req.headers,
          Buffer.concat(chunks).toString('utf8'),
        ).then(({ status, type }) => {
          if (type) refused.push(type);
          const payload = type ? { __type: type, message: `test endpoint: ${type}` } : {};
          res
            .writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
            .end(JSON.stringify(payload));
        });
      });
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    calls,
    /** Error types the endpoint answered with (signature, validation, injected faults). */
    refused,
    failWith(next: ((call: AwsCall) => AwsFault | undefined) | undefined) {
      fault = next;
    },
    start,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
