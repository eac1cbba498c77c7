/**
 * `GET /healthz`: whether this instance can keep an application now, for Caddy's active health
 * checks (deploy/Caddyfile) and for an operator. 200 `ok` when it can; 503 `unavailable` when
 * it can not. The body says nothing more: which part failed is in this instance's log, once
 * per change, never in the answer.
 *
 * What "can keep" takes, one probe each:
 * - `keys`: every staff key can still be encrypted to (one that expired since the start would
 *   make every application fail);
 * - `outbox`: the outbox takes a write as keeping does: a file written and fsync'd in
 *   OUTBOX_DIR, or, with OUTBOX_STORE=redis, a key written to that Redis, which is then the
 *   store the application would be kept in.
 * A Redis that only holds the limits is not a probe: while it is down the limits are kept in
 * process memory and applications are still kept (DESIGN.md: a help request is never refused
 * because a cache is down), so this instance can still keep them, and an outage every instance
 * shares would otherwise take them all out of the proxy at once.
 *
 * Cost is bounded whatever the rate of requests: one verdict is shared by every request for
 * `cacheMs` after it was reached, every request meanwhile waits for the one check under way,
 * and a probe still hanging from an earlier check is not started again (it counts as failing)
 * until it settles, so a hung disk or store holds at most one operation per probe.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCode } from '../logger.ts';
import type { Logger } from '../types.ts';

/** The path Caddy probes (deploy/Caddyfile `health_uri`). */
export const HEALTH_PATH = '/healthz';

/** One thing keeping an application needs: resolves when it works now, throws (or answers false) when not. */
export type Probe = () => Promise<unknown>;

export interface HealthOptions {
  probes: Record<string, Probe>;
  /** How long one verdict is given to every request; 1 s unless told. */
  cacheMs?: number;
  /** A probe that has not answered in this long fails this check; 2 s unless told. */
  timeoutMs?: number;
  logger?: Logger;
  now?: () => number;
}

export interface Health {
  /** True when every probe passed, at most `cacheMs` ago. */
  healthy(): Promise<boolean>;
}

interface Failure {
  name: string;
  why: string;
}

/** The probe's outcome: null when it passed, else why not (it threw, answered false, or is still running). */
function guarded(name: string, probe: Probe, timeoutMs: number): () => Promise<Failure | null> {
  let running: Promise<unknown> | undefined;
  return () => {
    if (running !== undefined) return Promise.resolve({ name, why: 'still running' });
    const current = Promise.resolve().then(probe);
    running = current;
    current.then(
      () => (running = undefined),
      () => (running = undefined),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Failure>((resolve) => {
      timer = setTimeout(() => resolve({ name, why: `no answer in ${timeoutMs} ms` }), timeoutMs);
    });
    const settled = current.then(
      (result) => (result === false ? { name, why: 'refused' } : null),
      (error: unknown) => ({ name, why: errorCode(error) }),
    );
    return Promise.race([settled, late]).finally(() => clearTimeout(timer));
  };
}

/** The health of this instance, from `probes`. */
export function createHealth(options: HealthOptions): Health {
  const { cacheMs = 1000, timeoutMs = 2000, logger, now = () => Date.now() } = options;
  const probes = Object.entries(options.probes).map(([name, probe]) => guarded(name, probe, timeoutMs));
  let verdict: { ok: boolean; at: number } | undefined;
  let checking: Promise<boolean> | undefined;
  // The names of the parts failing at the last check: the log speaks when they change.
  let failing = '';

  async function check(): Promise<boolean> {
    const failures = (await Promise.all(probes.map((probe) => probe()))).filter((f) => f !== null);
    const ok = failures.length === 0;
    verdict = { ok, at: now() };
    const names = failures.map((f) => f.name).join(',');
    if (names !== failing) {
      if (ok) logger?.info('health.available');
      else logger?.error('health.unavailable', { error: failures.map((f) => `${f.name}: ${f.why}`).join('; ') });
      failing = names;
    }
    return ok;
  }

  return {
    healthy() {
      if (verdict !== undefined && now() - verdict.at < cacheMs) return Promise.resolve(verdict.ok);
      checking ??= check().finally(() => {
        checking = undefined;
      });
      return checking;
    },
  };
}

/**
 * The handler for {@link HEALTH_PATH}: GET and HEAD only (others: 405), never cached, a
 * fixed body. The security headers are set before it runs, as on every response.
 */
export function healthHandler(health: Health) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('Method Not Allowed\n');
      return;
    }
    void health.healthy().then((ok) => {
      const body = ok ? 'ok\n' : 'unavailable\n';
      res.writeHead(ok ? 200 : 503, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(body)),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  };
}
