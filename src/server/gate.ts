import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Caps the bytes of request bodies being processed at once (each is held in memory while it is
 * checked and encrypted). Small posts — most help requests — pass freely; large uploads wait
 * their turn in a queue; a request that waits too long, or finds the queue full, gets a 503
 * with Retry-After and the hotlines instead of exhausting the server's memory.
 */
export interface GateOptions {
  /** Bytes of bodies in flight at most. */
  maxBytes: number;
  /** What a body without Content-Length (chunked) counts as: the largest body accepted. */
  unknownBytes: number;
  maxQueue: number;
  maxWaitMs: number;
}

const busy = {
  ru: 'Сервер занят. Попробуйте через минуту или позвоните +7 800 550 7140 (в опасности — 112).',
  en: 'Busy. Please try again in a minute, or call +7 800 550 7140 (in danger: 112).',
};

function refuse(req: IncomingMessage, res: ServerResponse): void {
  const json = (req.headers.accept ?? '').includes('application/json');
  res.writeHead(503, {
    'Retry-After': '30',
    'Cache-Control': 'no-store',
    'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8',
  });
  res.end(json ? JSON.stringify({ ok: false, error: 'unavailable', message: `${busy.ru} / ${busy.en}` }) : `${busy.ru}\n${busy.en}\n`);
  req.resume();
}

export function createGate(options: GateOptions) {
  let inFlight = 0;
  const queue: { weight: number; start: () => void; timer: NodeJS.Timeout }[] = [];

  const drain = () => {
    while (queue.length && inFlight + queue[0]!.weight <= options.maxBytes) {
      const next = queue.shift()!;
      clearTimeout(next.timer);
      next.start();
    }
  };

  return {
    run(req: IncomingMessage, res: ServerResponse, handle: () => unknown): void {
      const declared = Number(req.headers['content-length']);
      const weight = Math.min(Number.isFinite(declared) && declared > 0 ? declared : options.unknownBytes, options.maxBytes);
      const start = () => {
        inFlight += weight;
        res.once('close', () => {
          inFlight -= weight;
          drain();
        });
        handle();
      };
      if (queue.length === 0 && inFlight + weight <= options.maxBytes) return start();
      if (queue.length >= options.maxQueue) return refuse(req, res);
      const entry = {
        weight,
        start,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(entry), 1);
          refuse(req, res);
        }, options.maxWaitMs),
      };
      queue.push(entry);
    },
    get inFlight() {
      return inFlight;
    },
  };
}
