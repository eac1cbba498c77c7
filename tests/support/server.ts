/**
 * The built server for the tests, started the one way the scripts start it too
 * (scripts/lib/server.mjs), with the two settings every spec shares.
 */
import type { ChildProcess } from 'node:child_process';
import { freePort, startServer as startBuiltServer } from '../../scripts/lib/server.mjs';

export { freePort };

/** The bot threshold of the test servers (BOT_MIN_FILL_MS), far under the default 3000 ms. */
export const TEST_BOT_MIN_FILL_MS = 300;

export interface RunningServer {
  url: string;
  port: number;
  /** Every line the server printed (stdout and stderr), for log checks. */
  logs: string[];
  /** Var folder of this server: outbox and dev keys. */
  varDir: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  process: ChildProcess;
}

/**
 * Starts the built server (`npm run build` first) on a free port with its own var/ folder,
 * so every spec has its own outbox, keys and in-process limiter.
 */
export function startServer(env: Record<string, string> = {}, opts: { varDir?: string; port?: number } = {}): Promise<RunningServer> {
  return startBuiltServer(
    {
      // Specs send many refused posts from one address on purpose; the refusal window has
      // tests of its own (attacks.spec.ts), which set it.
      RATE_LIMIT_REFUSED: '100000/10m',
      // A person takes seconds; the island's tests need not wait 3 s before each send
      // (afterHumanDelay). intake.spec.ts proves the default refuses a faster fill.
      BOT_MIN_FILL_MS: String(TEST_BOT_MIN_FILL_MS),
      ...env,
    },
    opts,
  );
}
