import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Caps how many requests run at once (uploads are held in memory while they are checked and
 * encrypted). A request over the cap waits in a short queue; when the queue is full too it gets
 * a 503 with Retry-After, which the form shows with the hotlines.
 */
export function createGate(max: number, queueMax = max * 4) {
  let running = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return {
    run(req: IncomingMessage, res: ServerResponse, handle: () => unknown): void {
      const start = () => {
        running++;
        res.once('close', release);
        handle();
      };
      if (running < max) return start();
      if (queue.length >= queueMax) {
        res.writeHead(503, { 'Retry-After': '30', 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(
          'Сервер занят. Попробуйте через минуту или позвоните +7 800 550 7140 (в опасности — 112).\n' +
            'Busy. Please try again in a minute, or call +7 800 550 7140 (in danger: 112).\n',
        );
        req.resume();
        return;
      }
      queue.push(start);
    },
    get running() {
      return running;
    },
  };
}
