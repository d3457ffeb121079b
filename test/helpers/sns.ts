import { execFileSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1, made with openssl: it serves https and signs messages. */
function makeCertificate(): { dir: string; certPath: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-sns-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, certPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

type Envelope = Record<string, string>;

/** The string SNS signs, written out here independently of signoff's own code. */
function canonical(envelope: Envelope): string {
  const keys =
    envelope.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .filter((k) => envelope[k] !== undefined)
    .map((k) => `${k}\n${envelope[k]}\n`)
    .join('');
}

/**
 * Plays SNS: an https server on loopback serving the signing certificate and the
 * SubscribeURL, and messages signed with the certificate's key (SignatureVersion 1 or 2).
 */
export async function startFakeSns() {
  const { certPath, cert, key } = makeCertificate();
  const confirmations: string[] = [];
  const certFetches: string[] = [];
  const server: Server = createServer({ cert, key }, (req, res) => {
    if (req.url?.endsWith('.pem')) {
      certFetches.push(req.url);
      res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' }).end(cert);
    } else if (req.url?.startsWith('/confirm')) {
      confirmations.push(req.url);
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function sign(envelope: Envelope, version: '1' | '2', privateKey = key): Envelope {
    const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    signer.update(canonical(envelope));
    return { ...envelope, SignatureVersion: version, Signature: signer.sign(privateKey, 'base64') };
  }

  return {
    certPath,
    /** Environment that makes signoff trust this fake SNS. */
    env: { SIGNOFF_SNS_CERT_HOST: '^127\\.0\\.0\\.1$', SIGNOFF_SNS_CA_FILE: certPath },
    confirmations,
    certFetches,
    certUrl: `${base}/SimpleNotificationService-test.pem`,
    notification(
      topic: string,
      message: unknown,
      options: { version?: '1' | '2'; messageId?: string; certUrl?: string; key?: string } = {},
    ) {
      return sign(
        {
          Type: 'Notification',
          MessageId: options.messageId ?? randomUUID(),
          TopicArn: topic,
          Subject: 'APPROVAL NEEDED',
          Message: typeof message === 'string' ? message : JSON.stringify(message),
          Timestamp: new Date().toISOString(),
          SigningCertURL: options.certUrl ?? `${base}/SimpleNotificationService-test.pem`,
          UnsubscribeURL: `${base}/unsubscribe`,
        },
        options.version ?? '2',
        options.key,
      );
    },
    subscription(topic: string, options: { subscribeUrl?: string; version?: '1' | '2' } = {}) {
      const token = randomUUID();
      return sign(
        {
          Type: 'SubscriptionConfirmation',
          MessageId: randomUUID(),
          Token: token,
          TopicArn: topic,
          Message: `You have chosen to subscribe to the topic ${topic}.`,
          SubscribeURL: options.subscribeUrl ?? `${base}/confirm?Action=ConfirmSubscription&Token=${token}`,
          Timestamp: new Date().toISOString(),
          SigningCertURL: `${base}/SimpleNotificationService-test.pem`,
        },
        options.version ?? '1',
      );
    },
    /** A key that is not the certificate's, for forgeries. */
    otherKey: () => makeCertificate().key,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
