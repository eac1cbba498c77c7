// What an operator copies from deploy/, checked by the programs that will read it (caddy, tor,
// systemd) and against the code it must agree with: the endpoint's body limit, the health
// check's path, the configuration contract. A check whose program is not installed is skipped.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, VARIABLES } from '../../../src/intake/server/config.ts';
import { HEALTH_PATH } from '../../../src/intake/server/http/health.ts';
import { bodyLimits } from '../../../src/intake/server/pipeline.ts';
import { contacts } from '../../../src/site/contacts.ts';

const DEPLOY = join(import.meta.dirname, '../../../deploy');
const scratch = mkdtempSync(join(tmpdir(), 'deploy-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const installed = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const hasCaddy = installed('caddy');
const hasTor = installed('tor');
const hasSystemd = installed('systemd-analyze');

/** Runs a program with HOME in the scratch folder (caddy keeps its data there). */
function run(program: string, args: string[]) {
  const home = join(scratch, `home-${program}`);
  mkdirSync(home, { recursive: true });
  const result = spawnSync(program, args, { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'], HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Handler {
  handler: string;
  max_size?: number;
  status_code?: number;
  body?: string;
  routes?: Route[];
  upstreams?: { dial: string }[];
  health_checks?: { active?: { uri?: string; expect_status?: number }; passive?: unknown };
  trusted_proxies?: string[];
}
interface Route {
  match?: { host?: string[]; path?: string[] }[];
  handle?: Handler[];
}

/** Every handler of a route tree, depth first. */
function handlers(routes: Route[]): Handler[] {
  return routes.flatMap((route) => (route.handle ?? []).flatMap((h) => [h, ...handlers(h.routes ?? [])]));
}

/** The routes, at any depth, that match requests by `path`. */
function routesFor(routes: Route[], path: string): Route[] {
  return routes.flatMap((route) => [
    ...((route.match ?? []).some((m) => m.path?.includes(path)) ? [route] : []),
    ...routesFor((route.handle ?? []).flatMap((h) => h.routes ?? []), path),
  ]);
}

describe('deploy/Caddyfile', () => {
  it.skipIf(!hasCaddy)('is valid for caddy as written, with its domain', () => {
    const { status, output } = run('caddy', ['validate', '--adapter', 'caddyfile', '--config', join(DEPLOY, 'Caddyfile')]);
    expect(output).toContain('Valid configuration');
    expect(status).toBe(0);
  });

  it.skipIf(!hasCaddy)('caps bodies at the endpoint\'s limit, sends applications only to an instance whose /healthz says 200, and trusts no X-Forwarded-For', () => {
    const { status, output } = run('caddy', ['adapt', '--adapter', 'caddyfile', '--config', join(DEPLOY, 'Caddyfile')]);
    expect(status, output).toBe(0);
    const json = JSON.parse(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1)) as {
      apps: { http: { servers: Record<string, { listen: string[]; routes: Route[]; errors?: { routes: Route[] } }> } };
    };
    const servers = Object.values(json.apps.http.servers);
    // The domain on 443 (its redirect from 80 is Caddy's own), the onion's listener on loopback.
    expect(servers.flatMap((s) => s.listen).sort()).toEqual(['127.0.0.1:4380', ':443']);
    for (const server of servers) {
      const all = handlers(server.routes);
      expect(all.filter((h) => h.handler === 'request_body').map((h) => h.max_size)).toEqual([bodyLimits.maxBytes]);
      const proxies = all.filter((h) => h.handler === 'reverse_proxy');
      expect(proxies).toHaveLength(2);
      for (const proxy of proxies) {
        expect(proxy.upstreams).toEqual([{ dial: '127.0.0.1:4321' }, { dial: '127.0.0.1:4322' }]);
        expect(proxy.trusted_proxies).toBeUndefined();
        // Passive checks would count a client's oversized or broken upload against the instance.
        expect(proxy.health_checks?.passive).toBeUndefined();
      }
      const endpointProxies = handlers(routesFor(server.routes, '/api/*')).filter((h) => h.handler === 'reverse_proxy');
      expect(endpointProxies.map((p) => p.health_checks?.active)).toEqual([expect.objectContaining({ uri: HEALTH_PATH, expect_status: 200 })]);
      const pages = proxies.filter((p) => !endpointProxies.includes(p));
      // Pages: any instance that answers its home page, whatever Redis does.
      expect(pages.map((p) => p.health_checks?.active)).toEqual([expect.objectContaining({ uri: '/', expect_status: 200 })]);
      // No instance passed its check (Caddy's own 503): a GET goes to them unchecked; a post gets
      // a 503 of Caddy's with the hotline and the emergency number, never an empty page.
      const errors = handlers(server.errors?.routes ?? []);
      expect(JSON.stringify(server.errors)).toContain('"expression":"{http.error.status_code} == 503"');
      const fallback = errors.filter((h) => h.handler === 'reverse_proxy');
      expect(fallback).toHaveLength(1);
      expect(fallback[0]!.upstreams).toEqual([{ dial: '127.0.0.1:4321' }, { dial: '127.0.0.1:4322' }]);
      expect(fallback[0]!.health_checks).toBeUndefined();
      const answers = errors.filter((h) => h.handler === 'static_response');
      expect(answers.map((h) => h.status_code)).toEqual([503]);
      for (const number of [contacts.hotline.display, contacts.police.display]) expect(answers[0]!.body).toContain(number);
    }
  });
});

describe('deploy/torrc', () => {
  it.skipIf(!hasTor)('is valid for tor, and points the onion at the Caddyfile\'s loopback listener', () => {
    const text = readFileSync(join(DEPLOY, 'torrc'), 'utf8');
    expect(text).toMatch(/^HiddenServicePort 80 127\.0\.0\.1:4380$/m);
    expect(readFileSync(join(DEPLOY, 'Caddyfile'), 'utf8')).toMatch(/^http:\/\/:4380 \{$/m);
    const service = join(scratch, 'hs');
    const data = join(scratch, 'tor-data');
    mkdirSync(service, { recursive: true, mode: 0o700 });
    mkdirSync(data, { recursive: true, mode: 0o700 });
    const file = join(scratch, 'torrc');
    expect(text).toContain('HiddenServiceDir /var/lib/tor/alternativa/');
    writeFileSync(file, text.replace('/var/lib/tor/alternativa/', `${service}/`));
    const { status, output } = run('tor', ['--verify-config', '-f', file, '--DataDirectory', data]);
    expect(output).toContain('Configuration was valid');
    expect(status).toBe(0);
  });
});

describe('deploy/alternativa@.service', () => {
  it.skipIf(!hasSystemd)('is a unit systemd reads without a warning', () => {
    // A template is verified as one of its instances.
    const unit = join(scratch, 'alternativa@4321.service');
    copyFileSync(join(DEPLOY, 'alternativa@.service'), unit);
    const { status, output } = run('systemd-analyze', ['verify', '--man=no', unit]);
    expect(output).toBe('');
    expect(status).toBe(0);
  });
});

/** The variables of an env file as systemd reads it, set (`KEY=value`) or shown commented out (`#KEY=`). */
function envFile(text: string): { set: Record<string, string>; commented: string[] } {
  const set: Record<string, string> = {};
  const commented: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match === null) continue;
    const [, hash, name, value] = match as unknown as [string, string, string, string];
    if (hash === '#') commented.push(name);
    else set[name] = value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return { set, commented };
}

describe('deploy/alternativa.env.example', () => {
  const { set, commented } = envFile(readFileSync(join(DEPLOY, 'alternativa.env.example'), 'utf8'));

  it('names every variable of the configuration contract once, and no other', () => {
    const named = [...Object.keys(set), ...commented];
    expect([...named].sort()).toEqual([...VARIABLES].sort());
    expect(new Set(named).size).toBe(named.length);
  });

  it('holds no secret, and its production values start a production configuration once the secrets are filled in', () => {
    expect(set['RESEND_API_KEY']).toBe('');
    expect(set['RATE_LIMIT_SECRET']).toBe('');
    expect(() => loadConfig(set)).toThrow(/RESEND_API_KEY[\s\S]*RATE_LIMIT_SECRET|RATE_LIMIT_SECRET[\s\S]*RESEND_API_KEY/);
    const config = loadConfig({ ...set, RESEND_API_KEY: 're_example', RATE_LIMIT_SECRET: 'd3384a38a79d8c94b2fbcffbfc14a4252547f4794858c432094e3c0939a99c17' });
    expect(config).toMatchObject({ production: true, outboxStore: 'redis', trustProxy: 1, store: { kind: 'redis' }, keys: { source: 'file' } });
    // Where an instance listens is its unit's.
    expect(commented).toEqual(expect.arrayContaining(['HOST', 'PORT']));
  });
});
