/** Limits as the configuration writes them (`5/10m`), and the defaults. */
import type { Duration } from '@upstash/ratelimit';

/** A parsed limit: `tokens` requests per window. */
export interface Rate {
  tokens: number;
  windowMs: number;
  /** The window as @upstash/ratelimit writes it, e.g. `10 m`. */
  duration: Duration;
}

/** A limit as text (`5/10m`), as {@link parseRate} gives it, or as the config module gives it. */
export type RateSpec = string | Rate;

export const DEFAULT_ADDRESS_RATE = '5/10m';
export const DEFAULT_GLOBAL_RATE = '300/1h';
/** Refused posts per address: room for many honest mistakes, not for a flood. */
export const DEFAULT_REFUSED_RATE = '20/10m';
/** How long a limit check may take before the request is let through. */
export const DEFAULT_TIMEOUT_MS = 1000;

// The window's digits and the spaces after them are one optional group: `\s*(\d*)\s*` is
// quadratic in a run of spaces when there are no digits.
const RATE = /^\s*(\d+)\s*\/\s*(?:(\d+)\s*)?(ms|s|m|h|d)\s*$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses `count/window`, e.g. `5/10m`, `300/1h`, `10/s`; throws on anything else or on zero. */
export function parseRate(text: string): Rate {
  const match = RATE.exec(text);
  if (!match) throw new Error(`Invalid rate "${text}": expected a count, a slash and a window such as 5/10m`);
  const [, count = '', amountText = '', unitText = ''] = match;
  const unit = unitText as keyof typeof UNIT_MS;
  const amount = amountText === '' ? 1 : Number(amountText);
  const tokens = Number(count);
  if (tokens < 1 || amount < 1) throw new Error(`Invalid rate "${text}": count and window must be above 0`);
  return { tokens, windowMs: amount * UNIT_MS[unit], duration: `${amount} ${unit}` };
}

export function toRate(spec: RateSpec): Rate {
  return typeof spec === 'string' ? parseRate(spec) : spec;
}
