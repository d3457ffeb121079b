import { createVerify, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { SignoffError } from '../core/errors.js';

const MAX_AGE_MS = 65 * 60_000;
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

/** The fields of an SNS HTTP(S) delivery that signoff reads. */
export interface SnsEnvelope {
  readonly Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly SignatureVersion: '1' | '2';
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly Subject?: string | undefined;
  readonly SubscribeURL?: string | undefined;
  readonly Token?: string | undefined;
}

/** The exact string SNS signs: chosen keys, in this order, each as "Key\nValue\n". */
export function stringToSign(envelope: SnsEnvelope): string {
  const keys =
    envelope.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .filter((key) => envelope[key as keyof SnsEnvelope] !== undefined)
    .map((key) => `${key}\n${envelope[key as keyof SnsEnvelope]}\n`)
    .join('');
}

function refuse(message: string): never {
  throw new SignoffError('invalid_signature', message);
}

/**
 * Checks a URL SNS gives us (SigningCertURL, SubscribeURL) before anything fetches it:
 * https, a host that matches the allowed pattern, no credentials. Nothing else is fetched.
 */
export function checkAwsUrl(value: string, hostPattern: RegExp, what: string, pemPath: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    refuse(`${what} is not a URL.`);
  }
  if (url.protocol !== 'https:') refuse(`${what} must be https.`);
  if (!hostPattern.test(url.hostname)) refuse(`${what} is not on an allowed SNS host.`);
  if (url.username || url.password) refuse(`${what} must not carry credentials.`);
  if (pemPath && !url.pathname.endsWith('.pem')) refuse(`${what} must point at a .pem certificate.`);
  return url;
}

export type HttpsGetter = (url: URL, maxBytes: number) => Promise<string>;

/** A bounded https GET that trusts the system roots plus an optional extra CA. */
export function createHttpsGetter(timeoutMs: number, extraCa?: string): HttpsGetter {
  const ca = extraCa ? [...rootCertificates, extraCa] : undefined;
  return (url, maxBytes) =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', timeout: timeoutMs, ...(ca ? { ca } : {}) }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new SignoffError('upstream_failed', `${url.host} answered HTTP ${res.statusCode}.`));
          return;
        }
        let size = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new SignoffError('upstream_failed', `${url.host} sent too much.`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('timeout', () =>
        req.destroy(new SignoffError('upstream_timeout', `${url.host} did not answer in time.`)),
      );
      req.on('error', reject);
      req.end();
    });
}

/**
 * Verifies SNS message signatures (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA)
 * against the signing certificate, fetched once per URL and kept in a bounded cache.
 */
export function createSnsVerifier(options: { hostPattern: RegExp; get: HttpsGetter; now: () => Date }) {
  const certificates = new LRUCache<string, Promise<X509Certificate>>({ max: 50 });

  async function certificate(url: URL): Promise<X509Certificate> {
    let pending = certificates.get(url.href);
    if (!pending) {
      pending = options.get(url, 16 * 1024).then((pem) => new X509Certificate(pem));
      certificates.set(url.href, pending);
      pending.catch(() => certificates.delete(url.href));
    }
    return pending;
  }

  return async (envelope: SnsEnvelope): Promise<void> => {
    // SNS gives up on an HTTP delivery within an hour: anything older is a replay.
    const age = options.now().getTime() - Date.parse(envelope.Timestamp);
    if (!(age < MAX_AGE_MS && age > -MAX_CLOCK_AHEAD_MS))
      refuse('The SNS message is too old, or from the future.');
    const certUrl = checkAwsUrl(envelope.SigningCertURL, options.hostPattern, 'SigningCertURL', true);
    let cert: X509Certificate;
    try {
      cert = await certificate(certUrl);
    } catch (error) {
      throw new SignoffError('upstream_failed', 'The SNS signing certificate could not be fetched.', {
        cause: error,
      });
    }
    const now = options.now();
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo))
      refuse('The SNS signing certificate is not valid now.');
    const verifier = createVerify(envelope.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    verifier.update(stringToSign(envelope), 'utf8');
    if (!verifier.verify(cert.publicKey, envelope.Signature, 'base64'))
      refuse('The SNS message signature does not verify.');
  };
}
