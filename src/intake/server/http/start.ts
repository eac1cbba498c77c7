/**
 * Start-up of the intake for the Node server: configuration (fatal when wrong), keys (a dev
 * pair generated once when none are configured), the runtime registered for the endpoint,
 * the outbox retry loop, and the health of this instance (GET /healthz). Returns what the
 * server needs and a stop function.
 */
import { loadConfig } from '../config.ts';
import { keysUsable } from '../keys/staff.ts';
import { createLogger } from '../logger.ts';
import { createRuntime, registerRuntime, type Runtime } from '../runtime.ts';
import { createHealth, type Health } from './health.ts';

export interface Intake extends Runtime {
  /** Whether this instance can keep an application now (src/intake/server/http/health.ts). */
  health: Health;
  stop(): Promise<void>;
}

/** What keeping an application needs of this runtime: usable staff keys and an outbox that takes a write. */
export function intakeHealth(runtime: Runtime): Health {
  return createHealth({
    probes: {
      keys: () => keysUsable(runtime.staff.keys),
      outbox: () => runtime.delivery.probe(),
    },
    logger: runtime.logger,
  });
}

export async function startIntake(env: NodeJS.ProcessEnv = process.env): Promise<Intake> {
  const config = loadConfig(env);
  const logger = createLogger();
  const ready = createRuntime(config, logger);
  registerRuntime(ready);
  const runtime = await ready;
  const loop = runtime.delivery.startLoop(runtime.deps.mailer, logger);
  return {
    ...runtime,
    health: intakeHealth(runtime),
    async stop() {
      await loop.stop();
      await Promise.allSettled(runtime.deps.pending ?? []);
      await runtime.delivery.close();
      await runtime.store.close();
    },
  };
}
