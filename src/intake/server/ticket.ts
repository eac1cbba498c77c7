/**
 * References the server issues. With JavaScript on, the browser puts the reference inside the
 * ciphertext, so it must know it before it encrypts; it asks the server for one, and gets with it
 * a ticket: an HMAC over the reference and the time it was issued. Only a post that carries the
 * ticket can use the reference. A code seen on someone's phone is useless without it, and a
 * refusal of a bad ticket is decided before any record is looked at, so it says nothing about
 * whether a code exists.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { newReference } from '../contract/reference.ts';

/** How long a ticket may be used: a form filled in slowly, then sent again after a lost answer. */
export const TICKET_TTL_MS = 24 * 60 * 60 * 1000;

// `<issued, seconds, base 36>.<HMAC, 128 bits, base64url>`: 30 to 40 characters.
const TICKET = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$/;
// The secret also keys the address hashes: a label keeps the two uses apart.
const PURPOSE = 'alternativa reference ticket v1';

function mac(secret: string, reference: string, issued: string): Buffer {
  return createHmac('sha256', secret).update(`${PURPOSE}\u0000${reference}\u0000${issued}`).digest().subarray(0, 16);
}

/** A reference and its ticket, as the endpoint's GET gives them to the island. */
export interface IssuedReference {
  reference: string;
  ticket: string;
}

/** Draws a fresh reference and signs it. */
export function issueReference(secret: string, now = Date.now()): IssuedReference {
  const reference = newReference();
  const issued = Math.floor(now / 1000).toString(36);
  return { reference, ticket: `${issued}.${mac(secret, reference, issued).toString('base64url')}` };
}

/** True when `ticket` was issued by this server (same secret) for `reference` and has not expired. */
export function checkTicket(secret: string, reference: string, ticket: string, now = Date.now()): boolean {
  const match = TICKET.exec(ticket);
  if (!match) return false;
  const [, issued = '', signature = ''] = match;
  const age = now - Number.parseInt(issued, 36) * 1000;
  // A little slack for instances whose clocks differ.
  if (!(age >= -60_000 && age <= TICKET_TTL_MS)) return false;
  return timingSafeEqual(Buffer.from(signature, 'base64url'), mac(secret, reference, issued));
}
