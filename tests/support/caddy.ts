/**
 * Caddy with deploy/Caddyfile itself, for a test: the operator's file with only what a test
 * must change — the domain becomes `localhost`, the instances' and the onion listener's ports
 * become free ones — and global options for running on loopback alone: certificates from
 * Caddy's own local authority (`local_certs`, nothing installed in any trust store), its data
 * in a temporary folder, no admin endpoint, no redirect listener.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { freePort } from './server.ts';

const ROOT = join(import.meta.dirname, '../..');
const START_TIMEOUT_MS = 20_000;

export interface RunningCaddy {
  /** `https://localhost:<port>`: the site, as PUBLIC_URL. */
  url: string;
  /** Its HTTPS port on 127.0.0.1. */
  port: number;
  /** The onion service's listener (plain http on 127.0.0.1), where tor would send visitors. */
  onionPort: number;
  /** The root certificate of Caddy's local authority (PEM): what a client trusts instead of a public CA. */
  ca: string;
  /** Every line Caddy logged. */
  logs: string[];
  stop(): Promise<void>;
}

/** `text` with `from` replaced everywhere, failing when it is not there: the deploy file changed shape. */
function substitute(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`deploy/Caddyfile no longer has ${String(from)}: update tests/support/caddy.ts`);
  return typeof from === 'string' ? text.replaceAll(from, to) : text.replace(from, to);
}

/** True once a TLS handshake for `localhost` on `port` succeeds against `ca`. */
function handshakes(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['h2', 'http/1.1'] });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * Starts Caddy in front of the instances on `upstreams` (the two ports of deploy/Caddyfile, in
 * its order). Ready when its local authority has issued the site's certificate and a TLS
 * handshake with it succeeds.
 */
export async function startCaddy(upstreams: [number, number], ports: { https?: number; onion?: number } = {}): Promise<RunningCaddy> {
  const dir = mkdtempSync(join(tmpdir(), 'caddy-'));
  const [https, http, onion] = [ports.https ?? (await freePort()), await freePort(), ports.onion ?? (await freePort())];
  let text = readFileSync(join(ROOT, 'deploy/Caddyfile'), 'utf8');
  text = substitute(text, /^\{\n/m, `{
	local_certs
	skip_install_trust
	admin off
	storage file_system {
		root ${join(dir, 'data')}
	}
	default_bind 127.0.0.1
	http_port ${http}
	https_port ${https}
	auto_https disable_redirects
`);
  text = substitute(text, /^example\.org \{$/m, 'localhost {');
  text = substitute(text, '127.0.0.1:4321', `127.0.0.1:${upstreams[0]}`);
  text = substitute(text, '127.0.0.1:4322', `127.0.0.1:${upstreams[1]}`);
  text = substitute(text, /^http:\/\/:4380 \{$/m, `http://:${onion} {`);
  // Health checks every 2 s here (10 s in the file): a test of what Caddy does once they fail
  // then waits seconds, not the file's interval.
  text = substitute(text, 'health_interval 10s', 'health_interval 2s');
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, text);

  const child = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', file], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let exited = false;
  const ended = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines.filter(Boolean));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.once('error', (error) => {
    // Not installed (ENOENT): the tests need Debian's caddy (apt-get install caddy; .ci/run does).
    logs.push(`cannot run caddy: ${error.message}`);
    exited = true;
  });
  const stop = async () => {
    if (child.pid !== undefined) {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await ended;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const rootFile = join(dir, 'data/pki/authorities/local/root.crt');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`caddy did not start:\n${logs.join('\n')}`);
    }
    if (existsSync(rootFile) && (await handshakes(https, readFileSync(rootFile, 'utf8')))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `https://localhost:${https}`, port: https, onionPort: onion, ca: readFileSync(rootFile, 'utf8'), logs, stop };
}
