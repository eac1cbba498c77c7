import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress } from './address.ts';
import { createCountedEvent } from '../logger.ts';
import { addressGroup } from '../ratelimit/address.ts';
import type { Logger } from '../types.ts';
import { statusOf } from '../errors.ts';
import type { AnswerErrorCode, ErrorAnswer } from '../../contract/answers.ts';
import { contacts } from '../../../site/contacts.ts';

/** How slowly a body may arrive before it is cut with a 408. */
export interface Floor {
  bytesPerSecond: number;
  /** Arrival is averaged over this long: a short stall of the radio link is not slowness. */
  windowMs: number;
  /** Extra time before the first window ends, for the link to get going. */
  graceMs: number;
}

/**
 * Bad GPRS (one uplink slot, CS-1/CS-2) carries about 1–1.7 KB/s, with stalls of a few seconds
 * at handovers and retransmissions. Half a kilobyte a second averaged over 15 s (7.5 KB a window)
 * still passes such a phone with a seven-second stall in every window, while a client sending a
 * byte every few seconds to hold its place is cut after 20 s (or at most two windows after it
 * stops sending), not at the 120 s request timeout. The grace covers radio bearer setup and TCP
 * slow start on a 1 s round trip. Caddy's reverse_proxy streams request bodies unless told to
 * buffer them (`request_buffers`), so this is the phone's own rate.
 */
export const defaultFloor: Floor = { bytesPerSecond: 512, windowMs: 15_000, graceMs: 5_000 };

/** Options of `createGate`; every size is bytes of declared bodies. */
export interface GateOptions {
  /** Large bodies (over `smallBytes`, or chunked) in flight at most. */
  maxBytes: number;
  /** A body declared at most this long is small: it has its own budget and never waits behind uploads. */
  smallBytes: number;
  /** Small bodies in flight at most, so a flood of them is bounded too. */
  smallMaxBytes: number;
  /** What a body without Content-Length (chunked) counts as: the largest body accepted. */
  unknownBytes: number;
  /** Requests waiting per budget at most, and how long each may wait, before a 503. */
  maxQueue: number;
  maxWaitMs: number;
  /** Large bodies in flight or waiting per address group (IPv4 address, IPv6 /64) at most; the next gets a 429. */
  perAddress: number;
  /** Proxy hops whose X-Forwarded-For is trusted (the config's `trustProxy`). */
  trustProxy: number;
  /** `defaultFloor` unless given (tests use short windows). */
  floor?: Floor;
  /** Refusals and cuts are counted here, one line per kind per `logIntervalMs` (default 10 s). */
  logger: Logger;
  logIntervalMs?: number;
}

// Besides its body, every request holds buffers and objects: even an empty post counts this much,
// which bounds the number of small posts in flight (a 16 MB budget holds 1024).
const MIN_WEIGHT = 16 * 1024;

const hotline = contacts.hotline.display;
const police = contacts.police.display;
const messages = {
  busy: {
    ru: `Сервер занят. Попробуйте через минуту или позвоните ${hotline} (в опасности — ${police}).`,
    en: `Busy. Please try again in a minute, or call ${hotline} (in danger: ${police}).`,
  },
  slow: {
    ru: `Связь слишком медленная, заявка не дошла. Попробуйте ещё раз, когда связь станет лучше, или позвоните ${hotline} (в опасности — ${police}).`,
    en: `The connection is too slow: the application did not arrive. Please try again on a better connection, or call ${hotline} (in danger: ${police}).`,
  },
  uploads: {
    ru: `С этого адреса уже отправляются файлы. Дождитесь, пока отправка закончится, или позвоните ${hotline} (в опасности — ${police}).`,
    en: `Uploads from this address are already under way. Please wait for them to finish, or call ${hotline} (in danger: ${police}).`,
  },
};

/** The answer's headers and body: JSON for the island (the contract's error answer), plain text for anything else. */
function answer(req: IncomingMessage, error: AnswerErrorCode, message: keyof typeof messages) {
  const { ru, en } = messages[message];
  const json = (req.headers.accept ?? '').includes('application/json');
  const refusal: ErrorAnswer = { ok: false, error, message: `${ru} / ${en}` };
  const body = json ? JSON.stringify(refusal) : `${ru}\n${en}\n`;
  // Lower case, as `res.getHeaders()` names them, so that ours replace those already set.
  const headers = {
    'cache-control': 'no-store',
    // A refused or cut request must not keep its connection, nor have the rest of its body read.
    connection: 'close',
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  };
  return { headers, body };
}

/**
 * Refuses a request before its handler runs (so nothing else writes to `res`): too many uploads
 * from its address (`rate_limited`), or the server too busy to take it (`unavailable`).
 */
function refuse(req: IncomingMessage, res: ServerResponse, code: 'rate_limited' | 'unavailable', retryAfterSeconds: number): void {
  const { headers, body } = answer(req, code, code === 'rate_limited' ? 'uploads' : 'busy');
  res.writeHead(statusOf[code], { ...headers, 'retry-after': String(retryAfterSeconds) }).end(body);
}

/**
 * Cuts a request whose handler is reading it. The handler still answers once its read fails:
 * had our 408 gone through `res`, that answer would throw (headers already sent) and be logged
 * as a crash, so the 408 goes straight to the socket, with the headers already set on `res`.
 */
function cut(req: IncomingMessage, res: ServerResponse): void {
  const { socket } = req;
  // A pipelined request whose turn has not come has no socket yet: a 408 would answer the one before.
  if (res.headersSent || !res.socket || socket.destroyed) return void socket.destroy();
  const { headers, body } = answer(req, 'timeout', 'slow');
  const lines = Object.entries({ ...res.getHeaders(), ...headers }).flatMap(([name, value]) =>
    [value ?? []].flat().map((v) => `${name}: ${v}\r\n`),
  );
  socket.end(`HTTP/1.1 408 Request Timeout\r\n${lines.join('')}\r\n${body}`, () => socket.destroy());
}

/** Calls `onSlow` once if the body arrives slower than `floor`; returns the function that stops watching. */
function watchArrival(req: IncomingMessage, floor: Floor, onSlow: () => void): () => void {
  if (req.complete) return () => undefined;
  // The socket's count of bytes, not the stream: the handler reads the stream and needs every byte.
  const { socket } = req;
  const need = (floor.bytesPerSecond * floor.windowMs) / 1000;
  let last = socket.bytesRead;
  const check = () => {
    if (req.complete || socket.destroyed) return;
    const now = socket.bytesRead;
    if (now - last < need) return onSlow();
    last = now;
    timer = setTimeout(check, floor.windowMs).unref();
  };
  let timer = setTimeout(check, floor.graceMs + floor.windowMs).unref();
  return () => clearTimeout(timer);
}

interface Waiting {
  weight: number;
  start: () => void;
}

/** A byte budget and the queue of what waits for it, first come first served. */
function createBudget(maxBytes: number, maxQueue: number) {
  let inFlight = 0;
  const queue: Waiting[] = [];
  const drain = () => {
    while (queue.length && inFlight + queue[0]!.weight <= maxBytes) {
      const next = queue.shift()!;
      inFlight += next.weight;
      next.start();
    }
  };
  return {
    maxBytes,
    get inFlight() {
      return inFlight;
    },
    /** Starts `entry` at once if nothing waits and it fits, else queues it, or not when the queue is full. */
    enter(entry: Waiting): 'started' | 'queued' | 'full' {
      if (queue.length === 0 && inFlight + entry.weight <= maxBytes) {
        inFlight += entry.weight;
        entry.start();
        return 'started';
      }
      if (queue.length >= maxQueue) return 'full';
      queue.push(entry);
      return 'queued';
    },
    leaveQueue(entry: Waiting): void {
      const at = queue.indexOf(entry);
      if (at >= 0) queue.splice(at, 1);
      // The one that left may have blocked smaller ones behind it.
      drain();
    },
    release(weight: number): void {
      inFlight -= weight;
      drain();
    },
  };
}

/**
 * Caps the bytes of request bodies handled at once (each is held in memory while it is checked
 * and encrypted), in two budgets: small posts (help requests, encrypted or not) have their own,
 * so they never wait behind photo uploads. A request waits its turn briefly; one that waits too
 * long or finds the queue full gets a 503, a large upload over its address's share a 429, a body
 * slower than the floor a 408; each answer names the hotlines, and each kind is counted in the
 * log, not written line by line.
 */
export function createGate(options: GateOptions) {
  const floor = options.floor ?? defaultFloor;
  const small = createBudget(options.smallMaxBytes, options.maxQueue);
  const large = createBudget(options.maxBytes, options.maxQueue);
  // Address group → its large uploads in flight or waiting. A group is deleted at zero: the map
  // holds only the addresses uploading now.
  const uploading = new Map<string, number>();
  const count = {
    busy: createCountedEvent(options.logger, 'upload.busy', { intervalMs: options.logIntervalMs }),
    tooMany: createCountedEvent(options.logger, 'upload.too_many', { intervalMs: options.logIntervalMs }),
    cut: createCountedEvent(options.logger, 'upload.cut', { intervalMs: options.logIntervalMs }),
  };

  const declaredBytes = (req: IncomingMessage): number => {
    if (req.headers['transfer-encoding'] !== undefined) return options.unknownBytes;
    // Node's parser holds a body to its Content-Length, and a post with neither header has none.
    const declared = Number(req.headers['content-length'] ?? 0);
    return Number.isFinite(declared) && declared >= 0 ? declared : options.unknownBytes;
  };

  const groupOf = (req: IncomingMessage): string => {
    const forwarded = req.headers['x-forwarded-for'];
    const address = clientAddress(typeof forwarded === 'string' ? forwarded : null, req.socket.remoteAddress ?? '', options.trustProxy);
    return addressGroup(address);
  };

  return {
    /** Runs `handle` for this request now, later, or never (then the gate answers it). */
    run(req: IncomingMessage, res: ServerResponse, handle: () => unknown): void {
      const declared = declaredBytes(req);
      const isSmall = declared <= options.smallBytes;
      const budget = isSmall ? small : large;
      // A body declared over the largest accepted is refused by the handler before it is read.
      const weight = Math.min(Math.max(declared, MIN_WEIGHT), options.unknownBytes, budget.maxBytes);

      const group = isSmall ? undefined : groupOf(req);
      if (group !== undefined) {
        const held = uploading.get(group) ?? 0;
        if (held >= options.perAddress) {
          count.tooMany();
          return refuse(req, res, 'rate_limited', 60);
        }
        uploading.set(group, held + 1);
      }

      let state: 'waiting' | 'running' | 'done' = 'waiting';
      let waitTimer: NodeJS.Timeout | undefined;
      let stopWatching = (): void => undefined;
      const entry: Waiting = {
        weight,
        start: () => {
          state = 'running';
          clearTimeout(waitTimer);
          // Only a running request is watched: one that waits is held back by us, not slow.
          stopWatching = watchArrival(req, floor, () => {
            count.cut();
            cut(req, res);
          });
          handle();
        },
      };
      const busy = () => {
        state = 'done';
        count.busy();
        refuse(req, res, 'unavailable', 30);
      };
      // One place gives everything back however the exchange ends: answered, refused, cut, or
      // the client gone, while running or while waiting.
      res.once('close', () => {
        if (state === 'running') budget.release(weight);
        if (state === 'waiting') budget.leaveQueue(entry);
        state = 'done';
        clearTimeout(waitTimer);
        stopWatching();
        if (group === undefined) return;
        const held = (uploading.get(group) ?? 1) - 1;
        if (held > 0) uploading.set(group, held);
        else uploading.delete(group);
      });

      const place = budget.enter(entry);
      if (place === 'full') return busy();
      if (place === 'queued') {
        waitTimer = setTimeout(() => {
          budget.leaveQueue(entry);
          busy();
        }, options.maxWaitMs);
      }
    },
    /** Bytes of large bodies in flight. */
    get inFlight() {
      return large.inFlight;
    },
    /** Bytes of small bodies in flight. */
    get smallInFlight() {
      return small.inFlight;
    },
    /** Address groups with large uploads in flight or waiting (the per-address map's size). */
    get uploadingAddresses() {
      return uploading.size;
    },
  };
}
