import { SignoffError } from '../core/errors.js';
import { duration, type Env, text, url } from './read.js';

/** The model `ai` stages ask. */
export interface AiConfig {
  /** OpenAI-compatible chat-completions endpoint for `ai` stages (base URL, e.g. https://api.openai.com/v1). */
  readonly aiUrl: string | undefined;
  readonly aiKey: string | undefined;
  readonly aiModel: string | undefined;
  /** How long one AI review may take before the stage hands over. */
  readonly aiTimeoutMs: number;
}

/** The AI settings: an endpoint names its model and keeps its key out of the URL. */
export function readAiConfig(env: Env): AiConfig {
  const config = {
    aiUrl: url(env, 'SIGNOFF_AI_URL', ['https:', 'http:']),
    aiKey: text(env, 'SIGNOFF_AI_KEY'),
    aiModel: text(env, 'SIGNOFF_AI_MODEL'),
    aiTimeoutMs: duration(env, 'SIGNOFF_AI_TIMEOUT', '60s'),
  };
  if (config.aiUrl && /^[a-z]+:\/\/[^/]*@/i.test(config.aiUrl))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_AI_URL must not hold credentials: put the key in SIGNOFF_AI_KEY.',
    );
  if (config.aiUrl && !config.aiModel)
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_AI_URL is set: name the model too, in SIGNOFF_AI_MODEL.',
    );
  return config;
}
