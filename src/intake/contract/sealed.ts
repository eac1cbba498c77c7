/**
 * The request the island sends when the browser has encrypted the application: beside the
 * ciphertext, only what the server must read in the clear (the kind and language for the rate
 * limit and the answer, the consent, the bot checks, the reference that names the files).
 * Shared with the island; on `zod/mini`, like validate.ts.
 */
import * as z from 'zod/mini';
import { localeCodes, type LocaleCode } from '../../i18n/locales.ts';
import { isReference } from './reference.ts';
import { kinds } from './kinds.ts';
import { MAX_PHOTO_BYTES } from './fields.ts';

/** The field holding the armored message (report + JSON). */
export const SEALED_FIELD = 'sealed';
/** The ticket that came with the reference the server issued. */
export const TICKET_FIELD = 'reference_ticket';
/** A ticket's length at most (src/intake/server/ticket.ts makes them 30 to 40 characters). */
export const MAX_TICKET_CHARS = 64;
/** The file field holding each encrypted photo, as a binary OpenPGP message. */
export const SEALED_PHOTO_FIELD = 'sealed_photos';

/**
 * Room for the OpenPGP framing around one photo: a session-key packet per staff key (about
 * 0.5 KB for RSA-4096), packet headers, the file name and the integrity check. Generous on
 * purpose: a refused photo is a refused application.
 */
const SEALED_OVERHEAD_BYTES = 64 * 1024;
/** One encrypted photo: the photo cap plus its framing. */
export const MAX_SEALED_PHOTO_BYTES = MAX_PHOTO_BYTES + SEALED_OVERHEAD_BYTES;
/**
 * The armored report. Every text field at its limit in a three-byte script, twice (report and
 * JSON), padded and armored, stays under 200 KB; this leaves room and still caps the parse.
 */
export const MAX_SEALED_TEXT_CHARS = 512 * 1024;

// Milliseconds since the page opened; 15 digits is more than a tab stays open.
const ELAPSED_MS = /^\d{1,15}$/;

/** Exactly these fields, each once; anything beside them (a clear-text field) is refused. */
export const sealedSchema = z.strictObject({
  kind: z.enum(kinds),
  locale: z.enum(localeCodes as [LocaleCode, ...LocaleCode[]]),
  consent: z.literal('yes'),
  // The honeypot: any value is a bot's, dropped quietly after the checks (src/intake/server/bot.ts).
  website: z.optional(z.string()),
  filled_ms: z.optional(z.string().check(z.regex(ELAPSED_MS))),
  reference: z.string().check(z.refine(isReference)),
  // The server's signature over the reference it issued (src/intake/server/ticket.ts).
  [TICKET_FIELD]: z.string().check(z.maxLength(MAX_TICKET_CHARS)),
  [SEALED_FIELD]: z.string().check(z.maxLength(MAX_SEALED_TEXT_CHARS)),
});

export type SealedFields = z.output<typeof sealedSchema>;
