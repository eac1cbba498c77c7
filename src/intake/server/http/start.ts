/**
 * Start-up of the intake for the Node server: configuration (fatal when wrong), keys (a dev
 * pair generated once when none are configured), the runtime registered for the endpoint,
 * and the outbox retry loop. Returns what the server needs and a stop function.
 */
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { startRetryLoop } from '../delivery/retry.ts';
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
  const { outbox, mailer } = runtime.deps;
  const loop = startRetryLoop({ outbox, mailer, logger, baseSeconds: config.outboxRetrySeconds });
  return {
    ...runtime,
    async stop() {
      await loop.stop();
      await Promise.allSettled(runtime.deps.pending ?? []);
      await runtime.store.close();
    },
  };
}
