import { connect } from 'node:net';

/** An answer read off the socket: the first response only. */
export interface Raw {
  status: number;
  /** The reason phrase of the status line, which fetch does not show. */
  reason: string;
  headers: Record<string, string | string[] | undefined>;
  /** The header lines as they came, names lower-cased: a header sent twice, or a line split off, shows here. */
  lines: [string, string][];
  body: string;
}

export interface RawOptions {
  method?: string;
  path?: string;
  /** Sent as the Origin header unless `headers` sets its own. */
  origin?: string;
  headers?: Record<string, string>;
  chunks?: (string | Buffer)[];
  chunked?: boolean;
}

/**
 * A raw HTTP/1.1 request over a socket to 127.0.0.1:`port`, for bodies and headers no
 * well-behaved client sends (a Content-Length that lies, chunked bodies, broken multipart, a
 * foreign Host). The server may answer and close before it has read everything: that is the point.
 */
export function rawRequest(port: number, options: RawOptions): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, accept: 'application/json', connection: 'close', ...(options.origin ? { origin: options.origin } : {}), ...options.headers };
    const body = (options.chunks ?? []).map((c) => Buffer.from(c));
    if (options.chunked) Object.assign(headers, { 'transfer-encoding': 'chunked' });
    else if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      Object.assign(headers, { 'content-length': String(body.reduce((n, b) => n + b.length, 0)) });
    }
    const head = `${options.method ?? 'POST'} ${options.path ?? '/api/applications'} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer in 30 s')));
    socket.on('data', (d) => received.push(d));
    socket.on('error', (error: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(error.code ?? '') ? undefined : reject(error)));
    socket.on('close', () => {
      const all = Buffer.concat(received);
      const split = all.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = all.subarray(0, split).toString('latin1').split('\r\n');
      const pairs = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
      const parsed = Object.fromEntries(pairs);
      let payload: Buffer = all.subarray(split + 4);
      // Only the first answer counts: what may follow is the server refusing the unread rest.
      if (parsed['transfer-encoding'] === 'chunked') payload = dechunk(payload);
      else if (parsed['content-length']) payload = payload.subarray(0, Number(parsed['content-length']));
      const [, code = '0', ...reason] = statusLine.split(' ');
      resolve({ status: Number(code), reason: reason.join(' '), headers: parsed, lines: pairs, body: payload.toString('utf8') });
    });
    socket.write(head);
    for (const chunk of body) socket.write(options.chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk);
    if (options.chunked) socket.write('0\r\n\r\n');
  });
}

function dechunk(bytes: Buffer): Buffer {
  const out: Buffer[] = [];
  let rest = bytes;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.subarray(0, line).toString('latin1'), 16);
    if (!size) return Buffer.concat(out);
    out.push(rest.subarray(line + 2, line + 2 + size));
    rest = rest.subarray(line + 2 + size + 2);
  }
}
