// The upload gate in front of a real HTTP server on loopback, driven by raw sockets: what
// starts, what waits, what is refused, and what is cut, as a client on the wire sees it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { contacts } from '../../../../src/site/contacts.ts';
import { createGate, type GateOptions } from '../../../../src/intake/server/http/gate.ts';

const KB = 1024;
const MB = 1024 * KB;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Harness {
  port: number;
  gate: ReturnType<typeof createGate>;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Ids of the requests whose handler ran, in order. */
  started: string[];
  /** Answers a held request (its handler never reads the body). */
  release(id: string): void;
  /** The statuses a reading handler answered with, and the errors it met doing so (after a cut: none). */
  handlerAnswers: number[];
  handlerErrors: unknown[];
}

const servers: http.Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  })));
});

/**
 * A server wired as scripts/serve.mjs wires it. `hold`: the handler keeps the request until
 * `release`. `read`: it reads the body as Astro's handler does (a fetch Request over the
 * IncomingMessage), then answers 200, or 400 when the read fails.
 */
async function serve(options: Partial<GateOptions>, mode: 'hold' | 'read' = 'hold'): Promise<Harness> {
  const logger = createMemoryLogger();
  const gate = createGate({
    maxBytes: 32 * MB,
    smallBytes: 256 * KB,
    smallMaxBytes: 16 * MB,
    unknownBytes: 16 * MB,
    maxQueue: 10,
    maxWaitMs: 60_000,
    perAddress: 10,
    trustProxy: 0,
    logger,
    ...options,
  });
  const started: string[] = [];
  const held = new Map<string, http.ServerResponse>();
  const handlerAnswers: number[] = [];
  const handlerErrors: unknown[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const id = String(req.headers['x-id']);
    started.push(id);
    req.once('error', () => undefined);
    if (mode === 'hold') return void held.set(id, res);
    const request = new Request('http://127.0.0.1/', { method: 'POST', body: req as unknown as BodyInit, duplex: 'half' } as RequestInit);
    request.arrayBuffer().then(() => 200, () => 400).then((status) => {
      try {
        res.statusCode = status;
        res.end(`read ${id}`);
        handlerAnswers.push(status);
      } catch (error) {
        handlerErrors.push(error);
      }
    });
  };
  const server = http.createServer((req, res) => gate.run(req, res, () => handler(req, res)));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    gate,
    logger,
    started,
    handlerAnswers,
    handlerErrors,
    release: (id) => held.get(id)?.end(`done ${id}`),
  };
}

interface Sent {
  socket: Socket;
  /** The first answer on this connection. */
  answer: Promise<Answer>;
  closed: Promise<void>;
}

/**
 * A POST on a raw socket that declares `length` bytes (or is chunked) and sends only `body`:
 * the rest of a declared upload never comes unless the test writes it.
 */
function send(port: number, id: string, o: { length?: number; chunked?: boolean; body?: string; forwardedFor?: string; accept?: string } = {}): Sent {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  const headers = [
    `POST /api/applications HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    `X-Id: ${id}`,
    `Accept: ${o.accept ?? 'application/json'}`,
    o.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${o.length ?? (o.body ?? '').length}`,
    ...(o.forwardedFor ? [`X-Forwarded-For: ${o.forwardedFor}`] : []),
  ];
  socket.write(`${headers.join('\r\n')}\r\n\r\n${o.body ?? ''}`);
  let received = Buffer.alloc(0);
  const answer = new Promise<Answer>((resolve, reject) => {
    const parse = () => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const head = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(head['content-length'] ?? Number.NaN);
      const body = received.subarray(end + 4);
      if (!(body.length >= length)) return false;
      resolve({ status: Number(statusLine.split(' ')[1]), headers: head, body: body.subarray(0, length).toString('utf8') });
      return true;
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      parse();
    });
    socket.on('close', () => (parse() ? undefined : reject(new Error(`${id}: closed without an answer`))));
  });
  // An answer the test never awaits (a held upload torn down at the end) is no failure.
  answer.catch(() => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, answer, closed };
}

/** Waits until the server has seen `ids` start (the gate's decisions are made on arrival). */
const startedAll = (h: Harness, ...ids: string[]) => vi.waitFor(() => expect(h.started).toEqual(expect.arrayContaining(ids)), { timeout: 5000 });

describe('upload gate', () => {
  it('lets small posts through while the budget for uploads is full and has a queue', async () => {
    const h = await serve({ maxBytes: 32 * MB });
    for (const id of ['up1', 'up2', 'up3']) send(h.port, id, { length: 16 * MB, forwardedFor: id });
    await startedAll(h, 'up1', 'up2');
    const small = Array.from({ length: 40 }, (_, i) => `small${i}`);
    for (const id of small) send(h.port, id, { body: 'kind=help&message=' + 'x'.repeat(280) });
    await startedAll(h, ...small);
    // The third upload still waits: small posts went past it, not through its budget.
    expect(h.started).not.toContain('up3');
    expect(h.gate.inFlight).toBe(32 * MB);
  });

  it('counts an encrypted help request (under 256 KB) as small, and bounds small posts by their own budget', async () => {
    const h = await serve({ maxBytes: 16 * MB, smallMaxBytes: 500 * KB, maxQueue: 1 });
    send(h.port, 'upload', { length: 16 * MB });
    // Two sealed requests of 200 KB fill the small budget; a third waits, a fourth finds the queue full.
    const sealed = ['s1', 's2', 's3', 's4'].map((id) => send(h.port, id, { length: 200 * KB }));
    await startedAll(h, 'upload', 's1', 's2');
    expect((await sealed[3]!.answer).status).toBe(503);
    expect(h.started).not.toContain('s3');
    h.release('s1');
    await startedAll(h, 's3');
  });

  it('holds uploads over the byte budget until one finishes, and refuses past the queue with a 503', async () => {
    const h = await serve({ maxBytes: 32 * MB, maxQueue: 1 });
    const sent = [0, 1, 2, 3].map((i) => send(h.port, `u${i}`, { length: 16 * MB, accept: 'text/html' }));
    await startedAll(h, 'u0', 'u1');
    const refused = await sent[3]!.answer;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.headers['content-type']).toMatch(/^text\/plain/);
    expect(refused.body).toContain(contacts.hotline.display);
    h.release('u0');
    await startedAll(h, 'u2');
    expect(h.gate.inFlight).toBe(32 * MB);
  });

  it('answers a 503 to an upload that waited too long, and frees the place of one whose client left', async () => {
    const h = await serve({ maxBytes: 16 * MB, maxQueue: 1, maxWaitMs: 300, trustProxy: 1 });
    send(h.port, 'running', { length: 16 * MB, forwardedFor: '192.0.2.1' });
    await startedAll(h, 'running');
    // The client of the only waiting upload goes away: its place in the queue is free again.
    const gone = send(h.port, 'gone', { length: 16 * MB, forwardedFor: '192.0.2.2' });
    await vi.waitFor(() => expect(h.gate.uploadingAddresses).toBe(2));
    gone.socket.destroy();
    await vi.waitFor(() => expect(h.gate.uploadingAddresses).toBe(1));
    const waiting = send(h.port, 'waiting', { length: 16 * MB, forwardedFor: '192.0.2.3' });
    const answer = await waiting.answer;
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: false, error: 'unavailable' });
    expect(h.started).toEqual(['running']);
  });

  it('counts a chunked body as the largest accepted, and a post without a body as small', async () => {
    const h = await serve({ maxBytes: 32 * MB });
    for (const id of ['c1', 'c2', 'c3']) send(h.port, id, { chunked: true });
    send(h.port, 'empty', {});
    await startedAll(h, 'c1', 'c2', 'empty');
    expect(h.started).not.toContain('c3');
  });

  it('holds at most two uploads per address group (IPv6 by /64), refused with a 429 and the hotline', async () => {
    const h = await serve({ maxBytes: 64 * MB, perAddress: 2, trustProxy: 1 });
    send(h.port, 'a1', { length: 16 * MB, forwardedFor: '2001:db8:1:2::1' });
    send(h.port, 'a2', { length: 16 * MB, forwardedFor: '2001:db8:1:2:aaaa::7' });
    await startedAll(h, 'a1', 'a2');
    const third = await send(h.port, 'a3', { length: 16 * MB, forwardedFor: '2001:db8:1:2:ffff::1' }).answer;
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('60');
    expect(third.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(third.body)).toMatchObject({ ok: false, error: 'rate_limited' });
    expect(JSON.parse(third.body).message).toContain(contacts.hotline.display);
    expect(h.started).not.toContain('a3');
    // Other addresses, and small posts from the same one, are not held back.
    send(h.port, 'other', { length: 16 * MB, forwardedFor: '2001:db8:1:3::1' });
    send(h.port, 'small', { body: 'kind=help', forwardedFor: '2001:db8:1:2::1' });
    await startedAll(h, 'other', 'small');
    // Entries go when their uploads end: the map holds only addresses uploading now.
    expect(h.gate.uploadingAddresses).toBe(2);
    for (const id of ['a1', 'a2', 'other']) h.release(id);
    await vi.waitFor(() => expect(h.gate.uploadingAddresses).toBe(0));
    send(h.port, 'a4', { length: 16 * MB, forwardedFor: '2001:db8:1:2::1' });
    await startedAll(h, 'a4');
  });

  it('writes one log line per kind of refusal per 10 s, with the count', async () => {
    const h = await serve({ perAddress: 1 });
    send(h.port, 'held', { length: 16 * MB });
    await startedAll(h, 'held');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const refused = await Promise.all([1, 2, 3, 4, 5].map((i) => send(h.port, `r${i}`, { length: 16 * MB }).answer));
      expect(refused.map((a) => a.status)).toEqual([429, 429, 429, 429, 429]);
      expect(h.logger.lines).toHaveLength(0);
      vi.advanceTimersByTime(10_000);
    } finally {
      vi.useRealTimers();
    }
    expect(h.logger.entries()).toEqual([expect.objectContaining({ event: 'upload.too_many', count: 5 })]);
  });

  describe('floor rate', () => {
    const floor = { bytesPerSecond: 1000, windowMs: 600, graceMs: 200 };

    /** Writes `bytes` every `everyMs` until the socket closes or `total` bytes are sent. */
    function trickle(sent: Sent, bytes: number, everyMs: number, total: number) {
      let left = total;
      const timer = setInterval(() => {
        if (sent.socket.destroyed || left <= 0) return clearInterval(timer);
        const n = Math.min(bytes, left);
        left -= n;
        sent.socket.write('x'.repeat(n));
      }, everyMs);
      sent.socket.on('close', () => clearInterval(timer));
    }

    it('cuts a body that trickles in with a 408 naming the hotline, and closes the connection', async () => {
      const h = await serve({ floor }, 'read');
      const slow = send(h.port, 'slow', { length: 16 * MB });
      trickle(slow, 1, 100, Infinity);
      const answer = await slow.answer;
      expect(answer.status).toBe(408);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body)).toEqual({ ok: false, error: 'timeout', message: expect.stringContaining(contacts.hotline.display) });
      expect(JSON.parse(answer.body).message).toContain(contacts.police.display);
      await slow.closed;
      // The handler was mid-read: its read failed, and its own late answer went nowhere, quietly.
      await vi.waitFor(() => expect(h.handlerAnswers).toEqual([400]));
      expect(h.handlerErrors).toEqual([]);
      expect(h.gate.smallInFlight + h.gate.inFlight).toBe(0);
    });

    it('answers the cut in plain text to a form post', async () => {
      const h = await serve({ floor }, 'read');
      const slow = send(h.port, 'slow', { length: 100, accept: 'text/html' });
      const answer = await slow.answer;
      expect(answer.status).toBe(408);
      expect(answer.headers['content-type']).toMatch(/^text\/plain/);
      expect(answer.body).toContain(contacts.hotline.display);
    });

    it('lets a slow but steady body through (a phone on a bad network)', async () => {
      const h = await serve({ floor }, 'read');
      const total = 4000;
      // 2000 B/s, twice the floor, arriving in bursts over two seconds.
      const steady = send(h.port, 'steady', { length: total });
      trickle(steady, 500, 250, total);
      const answer = await steady.answer;
      expect(answer).toMatchObject({ status: 200, body: 'read steady' });
    });

    it('watches an upload only once it runs: time spent waiting for the budget is not slowness', async () => {
      const h = await serve({ floor, maxBytes: 16 * MB }, 'read');
      const first = send(h.port, 'first', { length: 16 * MB });
      await startedAll(h, 'first');
      const second = send(h.port, 'second', { length: 16 * MB });
      expect((await first.answer).status).toBe(408);
      // The second waited through the first's whole window, then ran and was cut in its own.
      expect((await second.answer).status).toBe(408);
      expect(h.started).toEqual(['first', 'second']);
    });
  });
});
