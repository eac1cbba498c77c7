/**
 * The one shared store of the intake: the rate limits count in it and the used references are
 * recorded in it, so every instance sees the same. Upstash Redis over REST, a plain Redis, or
 * nothing (process memory), as configured.
 */
import { Redis as UpstashRedis } from '@upstash/redis';
import type { Logger } from '../types.ts';
import { createRedisAdapter, type RedisAdapter } from './redis.ts';

/** The store the configuration names, as the config module describes it. */
export type StoreConfig =
  | { kind: 'upstash'; url: string; token: string }
  | { kind: 'redis'; url: string }
  | { kind: 'memory' };

/** What every open store can do. */
interface StoreHandle {
  /** Resolves true when the store answers (at once for Upstash's REST and for memory). */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** An open store. */
export type Store =
  | ({ kind: 'upstash'; client: UpstashRedis } & StoreHandle)
  | ({ kind: 'redis'; client: RedisAdapter } & StoreHandle)
  | ({ kind: 'memory' } & StoreHandle);

/**
 * Opens the store the configuration names: Upstash Redis over REST, a plain Redis through the
 * ioredis adapter, or nothing (limits then live in this process).
 */
export function openStore(config: StoreConfig, logger?: Logger): Store {
  // Neither Upstash's REST client nor process memory holds a connection.
  const connectionless = { ready: () => Promise.resolve(true), close: () => Promise.resolve() };
  switch (config.kind) {
    case 'upstash': {
      // One retry only: the limiter's own timeout decides, and piled-up retries help nobody.
      const client = new UpstashRedis({ url: config.url, token: config.token, enableTelemetry: false, retry: { retries: 1 } });
      return { kind: 'upstash', client, ...connectionless };
    }
    case 'redis': {
      const client = createRedisAdapter(config.url, logger ? { logger } : {});
      return { kind: 'redis', client, ready: (timeoutMs) => client.ready(timeoutMs), close: () => client.close() };
    }
    case 'memory':
      return { kind: 'memory', ...connectionless };
  }
}
