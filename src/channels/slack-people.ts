import { type IdentityRules, normalizeIdentity } from '../core/identity.js';
import type { SlackApi } from '../ports.js';

/**
 * The person a Slack account speaks for, or undefined when it speaks for nobody: the one rule
 * for who decides by a click and who is sent an approval by direct message. Only an active
 * person (not deactivated, not a bot, not a Slack Connect stranger) of the app's own workspace,
 * by the email on their profile: another organisation's admins set their members' emails, so
 * such an email proves nothing here. Slack's failures are thrown, as the Web API client gives them.
 */
export async function slackPerson(
  slack: SlackApi,
  userId: string,
  rules: IdentityRules,
): Promise<string | undefined> {
  const user = await slack.userInfo(userId);
  if (!user?.active || !user.email) return undefined;
  if (user.teamId !== (await slack.ownTeam())) return undefined;
  return normalizeIdentity(user.email, rules);
}
