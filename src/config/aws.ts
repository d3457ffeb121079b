import { type Env, list, pattern, text } from './read.js';

/** What signoff accepts from AWS: SNS topics, the hosts their messages may point at, routing. */
export interface AwsConfig {
  /** SNS topics whose messages /integrations/aws/sns accepts. */
  readonly snsTopics: readonly string[];
  /** Hosts SigningCertURL and SubscribeURL may point at. */
  readonly snsCertHost: RegExp;
  /** An extra CA (PEM) trusted when fetching from those hosts; for private endpoints and tests. */
  readonly snsCaFile: string | undefined;
  /** Path of the routing file for approvals that arrive from AWS. */
  readonly routesPath: string | undefined;
  /** Hosts a CloudFormation WaitHandle or custom resource ResponseURL may point at. */
  readonly cfnUrlHost: RegExp;
}

/** The AWS settings. */
export function readAwsConfig(env: Env): AwsConfig {
  return {
    snsTopics: list(env, 'SIGNOFF_SNS_TOPICS'),
    // SNS's regional endpoints only. Any label would also match S3 bucket hosts (a bucket named
    // "sns" is sns.s3.amazonaws.com) that anyone can serve a certificate from.
    snsCertHost: pattern(
      env,
      'SIGNOFF_SNS_CERT_HOST',
      '^sns\\.[a-z]{2}(-gov)?-[a-z]+-\\d{1,2}\\.amazonaws\\.com(\\.cn)?$',
    ),
    snsCaFile: text(env, 'SIGNOFF_SNS_CA_FILE'),
    routesPath: text(env, 'SIGNOFF_ROUTES'),
    cfnUrlHost: pattern(
      env,
      'SIGNOFF_CFN_URL_HOST',
      '^cloudformation-(custom-resource-response|waitcondition)-[a-z0-9-]+\\.s3([.-][a-z0-9-]+)*\\.amazonaws\\.com(\\.cn)?$',
    ),
  };
}
