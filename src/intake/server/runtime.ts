/**
 * The intake's dependencies, built once per process from the configuration: keys, outbox,
 * mailer, limiters, logger. The server (scripts/serve.mjs) builds it at start-up and registers
 * it here, so the endpoint — bundled separately by Astro — uses the very same instances
 * (one limiter memory, one per-reference delivery lock, one retry loop).
 */
import { loadConfig, describeConfig, type Config } from './config.ts';
import { createMailer } from './delivery/mailer.ts';
import { loadStaffKeys, type StaffKeys } from './keys/staff.ts';
import { createCountedEvent, createLogger } from './logger.ts';
import { openOutboxStore, type OutboxStore } from './delivery/outbox-store.ts';
import type { IntakeDeps } from './pipeline.ts';
import { openStore, type Store } from './store/store.ts';
import { createLimiters } from './ratelimit/limiters.ts';
import { createFileUsedReferences, createStoreUsedReferences, pruneUsedReferences, resilientUsedReferences, type UsedReferences } from './used-references.ts';
import type { ScriptRunner } from './store/redis.ts';
import type { Logger } from './types.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  staff: StaffKeys;
  store: Store;
  /** The outbox (files or the Redis stream, as OUTBOX_STORE says) and the delivery loop that fits it. */
  delivery: OutboxStore;
  deps: IntakeDeps;
}

const registry = Symbol.for('alternativa.intake.runtime');
type Holder = { [registry]?: Promise<Runtime> };

/** Builds a runtime from a configuration (tests build their own with other settings). */
export async function createRuntime(config: Config, logger: Logger = createLogger()): Promise<Runtime> {
  const staff = await loadStaffKeys(config, logger);
  const store = openStore(config.store, logger);
  // Checks fail open while the store is not connected: wait for it briefly at start, so the first
  // requests are limited too. A store that does not answer is logged and does not stop the start.
  if (!(await store.ready(3000))) logger.warn('ratelimit.store_unreachable', { store: store.kind });
  const delivery = await openOutboxStore(config, logger);
  const limiters = createLimiters(store, {
    address: config.rateLimitAddress,
    global: config.rateLimitGlobal,
    refused: config.rateLimitRefused,
    logger,
    logIntervalMs: config.logCountMs,
  });
  const deps: IntakeDeps = {
    limiters,
    rateLimitSecret: config.rateLimitSecret,
    keys: staff.keys,
    outbox: delivery.outbox,
    usedReferences: createUsedReferences(config, store, logger),
    mailer: createMailer(config),
    logger,
    allowedOrigins: config.allowedOrigins,
    botMinFillMs: config.botMinFillMs,
    pending: new Set(),
    countRefused: createCountedEvent(logger, 'application.refused', { intervalMs: config.logCountMs }),
  };
  logger.info('intake.ready', { summary: describeConfig(config), fingerprints: staff.fingerprints });
  return { config, logger, staff, store, delivery, deps };
}

/**
 * Where used references are recorded: in the shared store when there is one (every instance
 * sees them), with the files beside the outbox standing in while it is down; else in the files.
 */
function createUsedReferences(config: Config, store: Store, logger: Logger): UsedReferences {
  const files = createFileUsedReferences(config.usedReferencesDir, config.rateLimitSecret);
  void pruneUsedReferences(config.usedReferencesDir);
  if (store.kind === 'memory') return files;
  const failed = createCountedEvent(logger, 'references.store_failed', { level: 'warn', intervalMs: config.logCountMs });
  // Upstash's client runs `eval` as the adapter does; its typings are generic over the arguments.
  const runner = store.kind === 'upstash' ? (store.client as unknown as ScriptRunner) : store.client;
  return resilientUsedReferences(createStoreUsedReferences(runner, config.rateLimitSecret), files, () => failed({ store: store.kind }));
}

/** The process's runtime: the one the server registered, or one built from the environment. */
export function getRuntime(): Promise<Runtime> {
  const holder = globalThis as Holder;
  holder[registry] ??= createRuntime(loadConfig());
  return holder[registry];
}

/** Makes `runtime` the process's runtime (the server does this before it serves anything). */
export function registerRuntime(runtime: Promise<Runtime>): void {
  (globalThis as Holder)[registry] = runtime;
}
