/**
 * Start-up of the intake for the Node server: configuration (fatal when wrong), keys (a dev
 * pair generated once when none are configured), the runtime registered for the endpoint,
 * and the outbox retry loop. Returns what the server needs and a stop function.
 */
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createRuntime, registerRuntime, type Runtime } from '../runtime.ts';

export interface Intake extends Runtime {
  stop(): Promise<void>;
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
    async stop() {
      await loop.stop();
      await Promise.allSettled(runtime.deps.pending ?? []);
      await runtime.delivery.close();
      await runtime.store.close();
    },
  };
}
