import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGate } from '../../../src/server/gate.ts';

/** Just enough of a request and response for the gate: headers, resume, writeHead/end, close. */
function exchange(contentLength?: number) {
  const req = { headers: contentLength === undefined ? {} : { 'content-length': String(contentLength) }, resume: () => undefined } as unknown as IncomingMessage;
  const emitter = new EventEmitter();
  const res = Object.assign(emitter, {
    status: 0,
    writeHead(status: number) {
      res.status = status;
      return res;
    },
    end() {
      emitter.emit('close');
      return res;
    },
  });
  return { req, res: res as unknown as ServerResponse & { status: number } };
}

const MB = 1024 * 1024;

describe('upload gate', () => {
  it('lets small posts through at once, however many', () => {
    const gate = createGate({ maxBytes: 64 * MB, unknownBytes: 16 * MB, maxQueue: 2, maxWaitMs: 1000 });
    let started = 0;
    for (let i = 0; i < 500; i++) gate.run(exchange(2000).req, exchange().res, () => started++);
    expect(started).toBe(500);
  });

  it('holds large uploads over the byte cap until one finishes, and refuses past the queue', () => {
    const gate = createGate({ maxBytes: 32 * MB, unknownBytes: 16 * MB, maxQueue: 1, maxWaitMs: 60_000 });
    const started: number[] = [];
    const running = [0, 1, 2, 3].map((i) => {
      const { req, res } = exchange(16 * MB);
      gate.run(req, res, () => started.push(i));
      return res;
    });
    expect(started).toEqual([0, 1]);
    // The fourth found the queue (of one) full: a 503, never a crash or a hang.
    expect(running[3]!.status).toBe(503);
    running[0]!.end();
    expect(started).toEqual([0, 1, 2]);
    expect(gate.inFlight).toBe(32 * MB);
  });

  it('counts a body of unknown length (chunked) as the largest accepted', () => {
    const gate = createGate({ maxBytes: 32 * MB, unknownBytes: 16 * MB, maxQueue: 0, maxWaitMs: 1000 });
    gate.run(exchange().req, exchange().res, () => undefined);
    gate.run(exchange().req, exchange().res, () => undefined);
    const third = exchange();
    gate.run(third.req, third.res, () => undefined);
    expect(third.res.status).toBe(503);
  });
});
