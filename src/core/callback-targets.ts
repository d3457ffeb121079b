/** Whether a URL may receive CloudFormation signals: only pre-signed S3 hosts, never internal ones. */
export function isCloudFormationUrl(allowedHost: RegExp, url: string): boolean {
  try {
    return allowedHost.test(new URL(url).hostname);
  } catch {
    return false;
  }
}
