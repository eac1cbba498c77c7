/**
 * A stand-in for the endpoint behind `fetch`, the one thing the island's tests replace: it
 * serves a real staff key, so the island's own encryption runs, and staff's side opens what
 * arrives with the private key.
 */
import * as openpgp from 'openpgp';
import { vi } from 'vitest';
import { eccKeyPair, type TestKeyPair } from '../../../support/keys.ts';

/** What the fake endpoint answers a POST with; `offline` drops the connection. */
export type Answer = 'offline' | { status: number; body: unknown };

/** References the fake endpoint issues, one per GET, in this order (the alphabet has no 0/O/1/I/L). */
export const ISSUED = ['K7M2-PQ4X', 'HT3W-9ZRB', 'CD6F-EG8N', 'UVXY-2345'] as const;

/**
 * `GET /api/applications` and `POST /api/applications` as the server answers them: the GET with
 * the staff's public key, its fingerprint and a fresh reference with a ticket; each POST with the
 * next scripted answer, or by default 201 with the posted reference.
 */
export class FakeEndpoint {
  readonly staff: TestKeyPair;
  /** Fingerprints the GET claims; a mismatch with the key is what a tampered answer looks like. */
  fingerprints: string[];
  /** How many times the keys (and a reference) were asked for. */
  gets = 0;
  /** Every POST body, in order. */
  readonly posts: FormData[] = [];
  private readonly answers: (Answer | Promise<Answer>)[] = [];

  constructor(staff: TestKeyPair) {
    this.staff = staff;
    this.fingerprints = [staff.fingerprint];
  }

  /** Scripts the answers to the next POSTs, in order; a promise holds its POST until it settles. */
  answerPosts(...answers: (Answer | Promise<Answer>)[]): void {
    this.answers.push(...answers);
  }

  readonly fetch = vi.fn(async (url: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    if (String(url) !== '/api/applications') throw new TypeError(`unexpected fetch of ${String(url)}`);
    if ((init.method ?? 'GET') === 'GET') {
      const reference = ISSUED[this.gets++ % ISSUED.length];
      return json(200, { keys: this.staff.publicKey, fingerprints: this.fingerprints, reference, ticket: `ticket-${reference}` });
    }
    const body = init.body;
    if (!(body instanceof FormData)) throw new TypeError('the island posts FormData');
    this.posts.push(body);
    const answer = (await this.answers.shift()) ?? { status: 201, body: { ok: true, reference: body.get('reference'), sealed: true } };
    if (answer === 'offline') throw new TypeError('Failed to fetch');
    return json(answer.status, answer.body);
  });

  /** Opens the report a POST carries with the staff's private key, as staff will. */
  async openReport(post: FormData): Promise<string> {
    const armored = post.get('sealed');
    if (typeof armored !== 'string') throw new Error('the post has no sealed report');
    const decryptionKeys = await openpgp.readPrivateKey({ armoredKey: this.staff.privateKey });
    const { data } = await openpgp.decrypt({ message: await openpgp.readMessage({ armoredMessage: armored }), decryptionKeys });
    return data as string;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', date: new Date().toUTCString() } });
}

/** One staff key pair per file: generation is the slowest step here. */
export const staffKeyPair = () => eccKeyPair({ name: 'Island test staff' });
