import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SignoffError } from '../../src/core/errors.js';
import { checkAwsUrl } from '../../src/intake/sns-signature.js';

const { snsCertHost } = loadConfig({});

function refusal(host: string): string | undefined {
  try {
    checkAwsUrl(
      `https://${host}/SimpleNotificationService-0123456789abcdef.pem`,
      snsCertHost,
      'SigningCertURL',
      true,
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof SignoffError)) throw error;
    return error.code;
  }
}

describe('the SNS hosts signoff fetches from by default', () => {
  it.each([
    'sns.eu-west-1.amazonaws.com',
    'sns.us-east-1.amazonaws.com',
    'sns.ap-southeast-4.amazonaws.com',
    'sns.us-gov-west-1.amazonaws.com',
    'sns.cn-north-1.amazonaws.com.cn',
    'sns.cn-northwest-1.amazonaws.com.cn',
  ])('include the regional endpoint %s', (host) => {
    expect(refusal(host)).toBeUndefined();
  });

  it.each([
    // S3 bucket hosts: anyone can name a bucket "sns" and serve a certificate from it.
    'sns.s3.amazonaws.com',
    'sns.s3-us-west-2.amazonaws.com',
    'sns.s3-website-us-east-1.amazonaws.com',
    'sns.s3.eu-west-1.amazonaws.com',
    'sns.amazonaws.com',
    'sns.eu-west-1.amazonaws.com.evil.example',
    'evil.sns.eu-west-1.amazonaws.com',
    'sns.eu-west-1.execute-api.amazonaws.com',
  ])('exclude %s', (host) => {
    expect(refusal(host)).toBe('invalid_signature');
  });
});
