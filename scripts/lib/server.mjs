// The one way the scripts and the tests start the built server (`node scripts/serve.mjs`) and
// a local stand-in for Resend: loopback only, a free port, a var folder of its own, and a clean
// environment (only what is passed reaches the server).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const HOST = '127.0.0.1';

/** @returns {Promise<number>} a free loopback port (listen on 0, read it, close) */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = /** @type {net.AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

/**
 * @typedef {object} RunningServer
 * @property {string} url
 * @property {number} port
 * @property {string[]} logs every line the server printed (stdout and stderr)
 * @property {string} varDir its outbox and dev keys
 * @property {import('node:child_process').ChildProcess} process
 * @property {(signal?: NodeJS.Signals) => Promise<void>} stop SIGTERM (or `signal`), SIGKILL after 6 s
 */

/**
 * Starts the built server (`npm run build` first) on a free port (or `port`) with its own var
 * folder (or `varDir`). Ready when it logs `server.listening`; rejects with its output when it
 * exits first or is not up in 30 s.
 * @param {Record<string, string>} [env]
 * @param {{ varDir?: string, port?: number }} [options]
 * @returns {Promise<RunningServer>}
 */
export async function startServer(env = {}, options = {}) {
  // A free port can be taken by another process before the server listens on it: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, { ...options, port: options.port ?? (await freePort()) });
    } catch (error) {
      const taken = /EADDRINUSE/.test(String(error));
      if (!taken || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

/**
 * @param {Record<string, string>} env
 * @param {{ varDir?: string, port: number }} options
 * @returns {Promise<RunningServer>}
 */
async function startOnce(env, options) {
  const port = options.port;
  const varDir = options.varDir ?? mkdtempSync(join(tmpdir(), 'alt-var-'));
  const child = spawn('node', ['scripts/serve.mjs'], {
    cwd: ROOT,
    env: {
      PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: process.env['HOME'] ?? '/root',
      HOST,
      PORT: String(port),
      OUTBOX_DIR: join(varDir, 'outbox'),
      DEV_KEYS_DIR: join(varDir, 'dev-keys'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  /** @type {string[]} */
  const logs = [];
  let partial = '';
  let exited = child.exitCode !== null;
  child.once('exit', () => {
    exited = true;
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 30 s:\n${logs.join('\n')}`));
    }, 30_000);
    /** @param {number | null} code */
    const ended = (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) at start:\n${logs.join('\n')}`));
    };
    /** @param {Buffer} chunk */
    const collect = (chunk) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      logs.push(...lines.filter(Boolean));
      if (lines.some((line) => line.includes('"server.listening"'))) {
        clearTimeout(timer);
        child.off('close', ended);
        resolve(undefined);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('close', ended);
  });
  return {
    url: `http://${HOST}:${port}`,
    port,
    logs,
    varDir,
    process: child,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (exited) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 6000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill(signal);
      }),
  };
}
