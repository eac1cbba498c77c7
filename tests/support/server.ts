import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free loopback port (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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
export async function startServer(env: Record<string, string> = {}, opts: { varDir?: string; port?: number } = {}): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  const varDir = opts.varDir ?? mkdtempSync(join(tmpdir(), 'alt-var-'));
  const child = spawn('node', ['scripts/serve.mjs'], {
    env: {
      PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/root',
      HOST: '127.0.0.1',
      PORT: String(port),
      OUTBOX_DIR: join(varDir, 'outbox'),
      DEV_KEYS_DIR: join(varDir, 'dev-keys'),
      // Specs send many refused posts from one address on purpose; the refusal window has
      // tests of its own (attacks.spec.ts), which set it.
      RATE_LIMIT_REFUSED: '100000/10m',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${logs.join('\n')}`);
    if (logs.some((l) => l.includes('server.listening'))) break;
    if (Date.now() > deadline) throw new Error(`server did not start:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    logs,
    varDir,
    process: child,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
