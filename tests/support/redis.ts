/**
 * A private redis-server for a test file: loopback only, no persistence, on a free port (or a
 * given one, to bring a "restarted" server back where clients expect it).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.ts';

const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;

export interface RunningRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Where it keeps its files (its append-only file, when durable). */
  dir: string;
  /** SIGTERM, and wait for the process to end. */
  stop(): Promise<void>;
  /** SIGKILL: the server vanishes mid-work, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers (a hung or overloaded server). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
}

/** Answers true once the server on `port` replies +PONG to PING. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (data) => {
      reply += data.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/**
 * Starts redis-server and resolves once it answers PING. `durable`: as deploy/redis.conf has it
 * (append-only file, fsync before every answer), in `dir` or else in a directory of its own that
 * is removed when it ends; pass `dir` to start it again on what it wrote. `config`: a redis.conf
 * to start from (deploy/redis.conf itself), which then decides persistence; port, address and
 * directory are still this function's.
 */
export async function startRedis(options: { port?: number; durable?: boolean; dir?: string; config?: string } = {}): Promise<RunningRedis> {
  const port = options.port ?? (await freePort());
  const own = options.dir === undefined && (options.durable === true || options.config !== undefined);
  const dir = options.dir ?? (own ? await mkdtemp(join(tmpdir(), 'redis-aof-')) : tmpdir());
  const persistence = options.config !== undefined ? [] : options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const file = options.config === undefined ? [] : [options.config];
  const args = [...file, '--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--loglevel', 'warning'];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));

  const end = async (signal: NodeJS.Signals) => {
    if (running) child.kill(signal);
    // A paused server holds a SIGTERM until it runs again.
    if (running) child.kill('SIGCONT');
    await exited;
    if (own) await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await pings(port))) {
    if (!running || Date.now() > deadline) {
      await end('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}
