/**
 * The outbox: one JSON file of ciphertext per envelope, `<REFERENCE>.json`. An application is
 * kept here durably before anyone is told it was received, and leaves only once delivered.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UnavailableError } from '../errors.ts';
import { kinds } from '../../contract/kinds.ts';
import { ATTACHMENT_NAME } from '../../contract/pgp.ts';
import { isReference, REFERENCE, REFERENCE_SHAPE } from '../../contract/reference.ts';
import type { Envelope } from '../types.ts';

/** A directory of envelopes; every method takes or returns reference codes, never free text. */
export interface Outbox {
  readonly dir: string;
  /** Stores a new envelope durably; throws UnavailableError when it can not (answer 503). */
  keep(envelope: Envelope): Promise<void>;
  /** References waiting, oldest first. */
  list(): Promise<string[]>;
  /** The envelope, or null when it is not (or no longer) in the outbox. */
  read(reference: string): Promise<Envelope | null>;
  /** Replaces a kept envelope (e.g. its attempts); does nothing if it has already left. */
  update(envelope: Envelope): Promise<void>;
  /** Deletes an envelope (delivered); absent is fine. */
  remove(reference: string): Promise<void>;
  /**
   * Only an outbox that several instances share: true when this process holds `reference` now
   * and may send it, false when another instance does (or nobody yet). Absent: this process
   * alone sends from the outbox, and the per-reference lock in deliver.ts is enough.
   */
  holds?(reference: string): Promise<boolean>;
}

/** Temp files younger than this may belong to a write in progress in another process. */
const STALE_TEMP_MS = 60 * 60 * 1000;
/** An envelope's file, `<reference>.json` (exported for the pattern test, as the next). */
export const ENVELOPE_FILE = new RegExp(`^(${REFERENCE_SHAPE})\\.json$`);
/** A file publish() is writing, `.<reference>.<12 hex>.tmp`. */
export const TEMP_FILE = new RegExp(`^\\.${REFERENCE_SHAPE}\\.[0-9a-f]{12}\\.tmp$`);

/** An envelope as every outbox stores it; what is read back is parsed with it too. */
export const envelopeSchema = z.strictObject({
  reference: z.string().regex(REFERENCE),
  kind: z.enum(kinds),
  createdAt: z.iso.datetime({ offset: true }),
  armored: z.string().startsWith('-----BEGIN PGP MESSAGE-----'),
  attachments: z.array(z.strictObject({
    filename: z.string().regex(ATTACHMENT_NAME),
    armored: z.string().startsWith('-----BEGIN PGP MESSAGE-----'),
  })),
  attempts: z.number().int().min(0),
});

function checkedReference(reference: string): string {
  if (!isReference(reference)) throw new TypeError('not a reference code');
  return reference;
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/** Makes a rename or unlink in `dir` itself survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the envelope to a temp file in the same directory, fsyncs it, then publishes it under
 * its final name in one step, so a reader never sees a partial file. `exclusive` publishes with
 * a hard link, which fails if the name exists, instead of a rename, which replaces it.
 */
async function publish(dir: string, envelope: Envelope, exclusive: boolean): Promise<void> {
  const final = join(dir, `${envelope.reference}.json`);
  const temp = join(dir, `.${envelope.reference}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(envelope));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (exclusive) await link(temp, final);
    else await rename(temp, final);
  } finally {
    if (exclusive) await unlink(temp).catch(() => undefined);
  }
  await syncDir(dir);
  // The modification time carries the creation time, so list() can sort without reading files.
  const created = new Date(envelope.createdAt);
  await utimes(final, created, created).catch(() => undefined);
}

async function removeStaleTemp(dir: string, name: string, now: number): Promise<void> {
  try {
    const info = await stat(join(dir, name));
    if (now - info.mtimeMs > STALE_TEMP_MS) await unlink(join(dir, name));
  } catch {
    // Another process may have just published or cleaned it; either way it is gone.
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    throw error;
  }
}

/**
 * Writes, fsyncs and removes a small file in `dir` (created as keep would), as keeping an
 * envelope does: throws when the outbox could not keep one now (GET /healthz). The name is
 * neither an envelope's nor a temp file's, so nothing else ever reads it; one per process.
 */
export async function probeOutboxDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const probe = join(dir, `.probe.${process.pid}`);
  const handle = await open(probe, 'w', 0o600);
  try {
    await handle.writeFile('probe');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await unlink(probe);
}

/** The outbox at `dir` (created on first keep, mode 0700). */
export function createOutbox(dir: string): Outbox {
  const pathOf = (reference: string) => join(dir, `${checkedReference(reference)}.json`);

  async function keep(envelope: Envelope): Promise<void> {
    envelopeSchema.parse(envelope);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Exclusive: a reference collision must never overwrite someone else's application.
      await publish(dir, envelope, true);
    } catch (error) {
      const unavailable = new UnavailableError();
      unavailable.cause = error;
      throw unavailable;
    }
  }

  async function list(): Promise<string[]> {
    const now = Date.now();
    const found: { reference: string; time: number }[] = [];
    for (const name of await listDir(dir)) {
      const reference = ENVELOPE_FILE.exec(name)?.[1];
      if (reference !== undefined) {
        const info = await stat(join(dir, name)).catch(() => null);
        if (info !== null) found.push({ reference, time: info.mtimeMs });
      } else if (TEMP_FILE.test(name)) {
        await removeStaleTemp(dir, name, now);
      }
    }
    found.sort((a, b) => a.time - b.time || a.reference.localeCompare(b.reference));
    return found.map((f) => f.reference);
  }

  async function read(reference: string): Promise<Envelope | null> {
    let text: string;
    try {
      text = await readFile(pathOf(reference), 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return null;
      throw error;
    }
    const envelope = envelopeSchema.parse(JSON.parse(text));
    if (envelope.reference !== reference) throw new Error('outbox file does not match its name');
    return envelope;
  }

  async function update(envelope: Envelope): Promise<void> {
    envelopeSchema.parse(envelope);
    try {
      await stat(pathOf(envelope.reference));
    } catch (error) {
      // Already delivered and removed: writing it back would send it again.
      if (isCode(error, 'ENOENT')) return;
      throw error;
    }
    await publish(dir, envelope, false);
  }

  async function remove(reference: string): Promise<void> {
    try {
      await unlink(pathOf(reference));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return;
      throw error;
    }
    await syncDir(dir);
  }

  return { dir, keep, list, read, update, remove };
}
