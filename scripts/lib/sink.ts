/**
 * A local stand-in for Resend's API: POST /emails on 127.0.0.1, recording what it receives.
 * Modes: 'ok' (200 `{ id }`, after `delayMs`), 'fail' (500), 'hang' (never answers); `down()` closes the port,
 * `up()` opens the same port again.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface SinkRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** When the whole request had arrived (Date.now()). */
  at: number;
}

export type SinkMode = 'ok' | 'fail' | 'hang';

export interface Sink {
  /** Base URL to give the SDK (RESEND_BASE_URL / baseUrl). */
  readonly url: string;
  readonly requests: SinkRequest[];
  mode: SinkMode;
  /** Answer 'ok' requests only after this many ms (to make sends overlap). */
  delayMs: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Starts the sink on a free port. */
export async function startSink(): Promise<Sink> {
  const sockets = new Set<Socket>();
  const sink = { requests: [] as SinkRequest[], mode: 'ok' as SinkMode, delayMs: 0 };
  let count = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      sink.requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: text === '' ? null : JSON.parse(text),
        at: Date.now(),
      });
      if (sink.mode === 'hang') return;
      if (sink.mode === 'fail') {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ statusCode: 500, name: 'internal_server_error', message: 'sink failure' }));
        return;
      }
      count += 1;
      const id = `sink-${count}`;
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id }));
      }, sink.delayMs);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server, 0);

  async function down(): Promise<void> {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  return Object.assign(sink, {
    url: `http://127.0.0.1:${port}`,
    down,
    up: async () => {
      if (!server.listening) await listen(server, port);
    },
    close: down,
  });
}

/** How many requests the sink got per reference (the Idempotency-Key the mailer sends). */
export function sendsPerReference(sink: Sink): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of sink.requests) {
    const reference = String(r.headers['idempotency-key']);
    counts.set(reference, (counts.get(reference) ?? 0) + 1);
  }
  return counts;
}
