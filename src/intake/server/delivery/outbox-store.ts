/**
 * The outbox a process uses, as OUTBOX_STORE says, with the delivery that belongs to it: files in
 * OUTBOX_DIR and the retry loop of retry.ts (one instance; the embedded default), or the Redis
 * stream of stream-outbox.ts and its consumer loop (any number of instances). The server, the
 * flush script and the doctor all open it here, so they agree on keys, timings and checks.
 */
import type { Config } from '../config.ts';
import { checkDurability } from '../store/durability.ts';
import { openRedisConnection, whenReady } from '../store/redis.ts';
import type { Logger, Mailer } from '../types.ts';
import { createOutbox, probeOutboxDir, type Outbox } from './outbox.ts';
import { backoffSeconds, flushOutbox, startRetryLoop, type FlushResult, type RetryLoop } from './retry.ts';
import { flushStream, startStreamLoop } from './stream-loop.ts';
import { createStreamOutbox } from './stream-outbox.ts';

/** The longest wait between two tries of one envelope. */
const MAX_RETRY_SECONDS = 3600;

export interface OutboxStore {
  outbox: Outbox;
  /** Starts the background delivery of this process. */
  startLoop(mailer: Mailer, logger: Logger): RetryLoop;
  /** One delivery pass (`npm run outbox:flush`). */
  flush(mailer: Mailer, logger: Logger): Promise<FlushResult>;
  /** Applications waiting (and, in Redis, dead letters: envelopes that could not be read back). */
  counts(): Promise<{ waiting: number; dead: number }>;
  /** Hands back what this process holds (Redis: to the other instances at once) and disconnects. */
  close(): Promise<void>;
  /** Throws when this outbox could not keep an application now: a write as keeping does (GET /healthz). */
  probe(): Promise<void>;
}

/**
 * How long an entry may sit untouched before another instance takes it over (what a dead
 * instance's applications wait). Its holder restarts the clock just before each send
 * (`holds`), so it must outlast one send (the mail timeout, twice for the abort to land) and
 * the store's answer that settles it: at least 5 s more, and four mail timeouts, which is the
 * minute it always was with the default 15 s. Should a slow store outlast it, another instance
 * sends under the same Idempotency-Key, which the provider drops. Derived from
 * MAIL_TIMEOUT_SECONDS alone, so a short timeout (the tests) means a short takeover.
 */
export function claimIdleMs(mailTimeoutMs: number): number {
  return Math.max(4 * mailTimeoutMs, 2 * mailTimeoutMs + 5_000);
}

/**
 * Opens the configured outbox. For Redis: a connection of the outbox's own (parts of several MB
 * must not hold up the limiters' commands), the consumer group, and the durability check, which
 * stops a production start (`requireDurable`) when Redis would not keep what it acknowledges;
 * a flush still delivers from such a Redis, and only warns.
 */
export async function openOutboxStore(config: Config, logger: Logger, options: { requireDurable?: boolean } = {}): Promise<OutboxStore> {
  const { requireDurable = config.production } = options;
  if (config.outboxStore === 'file' || config.store.kind !== 'redis') {
    const outbox = createOutbox(config.outboxDir);
    return {
      outbox,
      startLoop: (mailer, log) => startRetryLoop({ outbox, mailer, logger: log, baseSeconds: config.outboxRetrySeconds }),
      flush: (mailer, log) => flushOutbox({ outbox, mailer, logger: log }),
      counts: async () => ({ waiting: (await outbox.list()).length, dead: 0 }),
      close: () => Promise.resolve(),
      probe: () => probeOutboxDir(config.outboxDir),
    };
  }
  let closing = false;
  // Writes of a whole part must fit in one command's time, on a slow link too.
  const client = openRedisConnection(config.store.url, {
    logger,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 10_000,
    events: { down: 'outbox.redis_down', up: 'outbox.redis_up' },
    closing: () => closing,
  });
  const outbox = createStreamOutbox({
    client,
    claimIdleMs: claimIdleMs(config.mail?.timeoutMs ?? 15_000),
    retryAt: (attempts) => Date.now() + backoffSeconds(attempts, config.outboxRetrySeconds, MAX_RETRY_SECONDS) * 1000,
  });
  const close = async () => {
    await outbox.release().catch(() => undefined);
    closing = true;
    client.disconnect();
  };
  if (await whenReady(client, 3000)) {
    await outbox.ensureGroup();
    const durability = await checkDurability(client);
    if (durability.verdict === 'not_durable' && requireDurable) {
      await close();
      throw new Error(`the Redis behind OUTBOX_STORE=redis does not keep what it acknowledges: ${durability.findings.join('; ')}`);
    }
    for (const finding of durability.findings) logger.warn('outbox.not_durable', { error: finding });
  } else {
    // Keeps answer 503 until it is back; the group is created by the first keep or round.
    logger.warn('outbox.redis_unreachable', { store: 'redis' });
  }
  return {
    outbox,
    startLoop: (mailer, log) => startStreamLoop({ outbox, mailer, logger: log }),
    flush: (mailer, log) => flushStream({ outbox, mailer, logger: log }),
    counts: () => outbox.counts(),
    close,
    probe: () => outbox.probe(),
  };
}
