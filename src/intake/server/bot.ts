import { SHORT_VALUE_MAX } from '../contract/fields.ts';

const WHOLE_NUMBER = /^\d{1,9}$/;

/** How fast a person can read and fill in a form at the quickest: BOT_MIN_FILL_MS's default. */
export const DEFAULT_MIN_FILL_MS = 3000;

/**
 * True for what is almost surely a bot: the hidden `website` field filled in, or the form sent
 * faster than a person can read it (`filled_ms`, set by the island; absent without JS).
 * The caller answers bots as if all went well and drops the submission.
 */
export function isBot(fields: Map<string, string[]>, minFillMs: number): boolean {
  if ((fields.get('website') ?? []).some((v) => v !== '')) return true;
  const value = fields.get('filled_ms')?.[0];
  const filled = value !== undefined && value.length <= SHORT_VALUE_MAX ? value.trim() : undefined;
  return filled !== undefined && WHOLE_NUMBER.test(filled) && Number(filled) < minFillMs;
}
