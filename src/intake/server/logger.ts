/**
 * Structured log, one JSON line per event. Only whitelisted keys with values of the expected
 * shape are written: application content can not reach a log by accident, even when a caller
 * passes the wrong object.
 */
import type { Logger } from './types.ts';
import { isKind } from '../contract/kinds.ts';
import { isReference } from '../contract/reference.ts';

type Level = 'info' | 'warn' | 'error';

/** Returns the value to log, or undefined to drop it. */
type Check = (value: unknown) => unknown;

const TOKEN = /^[A-Za-z0-9_.:-]{1,40}$/;
const FINGERPRINT = /^[0-9A-Fa-f]{16,64}$/;

const referenceValue = (v: unknown): v is string => typeof v === 'string' && isReference(v);
const number: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const token: Check = (v) => (typeof v === 'string' && TOKEN.test(v) ? v : undefined);

/** A short single line: long or multi-line text is what content looks like, so it is cut. */
function line(max: number): Check {
  return (v) => {
    if (typeof v !== 'string') return undefined;
    const flat = v.replace(/\s+/g, ' ').trim();
    return flat.length > max ? `${flat.slice(0, max)}…` : flat;
  };
}

const FIELDS: Record<string, Check> = {
  reference: (v) => (referenceValue(v) ? v : undefined),
  references: (v) => (Array.isArray(v) ? v.filter(referenceValue) : undefined),
  kind: (v) => (isKind(v) ? v : undefined),
  status: (v) => number(v) ?? token(v),
  duration_ms: (v) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined),
  attempts: number,
  count: number,
  retry_in_s: number,
  error: line(200),
  // Which check refused a ciphertext (errors.ts SealedFault): names a check, never content.
  fault: token,
  sealed: (v) => (typeof v === 'boolean' ? v : undefined),
  store: token,
  source: token,
  locale: token,
  fingerprints: (v) => (Array.isArray(v) ? v.filter((f) => typeof f === 'string' && FINGERPRINT.test(f)) : undefined),
  dir: line(1024),
  path: line(1024),
  // The start-up line from describeConfig: names of stores and directories, no secrets.
  summary: line(400),
};

/**
 * A content-free name for an error, for the `error` field: its errno code (ENOTDIR) or class
 * name, never its message, which may quote the data that failed.
 */
export function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown } | null | undefined;
  return String(e?.code ?? e?.name ?? 'error');
}

/** Keeps the whitelisted keys whose values have the expected shape; counts what it dropped. */
export function sanitize(data: Record<string, unknown> = {}): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  let dropped = 0;
  for (const [key, value] of Object.entries(data)) {
    const checked = Object.hasOwn(FIELDS, key) ? FIELDS[key]?.(value) : undefined;
    if (checked === undefined) dropped += 1;
    else kept[key] = checked;
  }
  if (dropped > 0) kept['dropped'] = dropped;
  return kept;
}

function entry(level: Level, event: string, data?: Record<string, unknown>): string {
  const name = TOKEN.test(event) ? event : 'invalid_event_name';
  return JSON.stringify({ time: new Date().toISOString(), level, event: name, ...sanitize(data) });
}

function loggerWriting(write: (line: string) => void): Logger {
  return {
    info: (event, data) => write(entry('info', event, data)),
    warn: (event, data) => write(entry('warn', event, data)),
    error: (event, data) => write(entry('error', event, data)),
  };
}

/** A logger writing one JSON line per event to `stream` (stdout by default). */
export function createLogger(stream: { write(chunk: string): unknown } = process.stdout): Logger {
  return loggerWriting((text) => stream.write(`${text}\n`));
}

/** A logger for tests: keeps the lines it would have written, and their parsed form. */
export function createMemoryLogger(): Logger & { lines: string[]; entries(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    ...loggerWriting((text) => lines.push(text)),
    lines,
    entries: () => lines.map((text) => JSON.parse(text) as Record<string, unknown>),
  };
}

/** How a counted event is written. */
export interface CountedEventOptions {
  level?: Level;
  /** One line per this many ms at most, per kind of data; default 10 s. */
  intervalMs?: number | undefined;
}

/** Different `data` a counted event keeps apart; more than this are added to the last one. */
const MAX_COUNTED_GROUPS = 32;

/**
 * Counts an event and writes one line per interval with the count (per distinct `data`, e.g.
 * per error code), instead of a line each time: a flood of refused requests must not become a
 * flood of log lines (or of disk writes).
 */
export function createCountedEvent(logger: Logger, event: string, options: CountedEventOptions = {}): (data?: Record<string, unknown>) => void {
  const { level = 'info', intervalMs = 10_000 } = options;
  const groups = new Map<string, { data: Record<string, unknown>; count: number }>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    for (const { data, count } of groups.values()) logger[level](event, { ...data, count });
    groups.clear();
    timer = undefined;
  };
  return (data = {}) => {
    // Only what the log keeps tells groups apart: a dropped value can not make a group of its own.
    const { dropped: _dropped, ...kept } = sanitize(data);
    let key = JSON.stringify(kept);
    if (!groups.has(key) && groups.size >= MAX_COUNTED_GROUPS) key = [...groups.keys()].at(-1) ?? key;
    const group = groups.get(key) ?? { data: kept, count: 0 };
    group.count += 1;
    groups.set(key, group);
    timer ??= setTimeout(flush, intervalMs).unref();
  };
}
