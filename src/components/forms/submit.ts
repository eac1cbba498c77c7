/**
 * The island's side of the endpoint contract: read the form as the server will, check it with
 * the server's own `validateFields`, and send it as JSON-answered `fetch`.
 */
import { sniffImageType } from '../../applications/schema.ts';
import type { UploadedFile } from '../../applications/types.ts';
import type { FieldMessages } from './layout.ts';

/** The endpoint; the same URL the form's `action` names for a post without JS. */
export const ENDPOINT = '/api/applications';

/**
 * A photo as the schema sees it: its whole bytes, since the schema checks how the file starts
 * (type), how it ends (nothing appended) and its size, exactly as the server will.
 */
async function asUpload(field: string, file: File): Promise<UploadedFile> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  return { field, type: sniffImageType(bytes), bytes };
}

/** The form's fields as the endpoint's parser produces them: repeated names keep every value. */
export async function readForm(form: HTMLFormElement): Promise<{ fields: Map<string, string[]>; files: UploadedFile[] }> {
  const fields = new Map<string, string[]>();
  const files: UploadedFile[] = [];
  for (const [name, value] of new FormData(form)) {
    if (typeof value === 'string') fields.set(name, [...(fields.get(name) ?? []), value]);
    // An empty file input sends a nameless empty file; the server drops it too.
    else if (value.size > 0) files.push(await asUpload(name, value));
  }
  return { fields, files };
}

export type SendResult =
  | { type: 'sent'; reference: string }
  | { type: 'invalid'; fields: FieldMessages }
  | { type: 'failed'; message?: string; retryAfter?: number };

// Matches the server's whole-request timeout: after that the answer can not come any more.
const SEND_TIMEOUT_MS = 120_000;

/** Posts the form; never throws: a dropped connection or a bad answer is a `failed` result. */
export async function send(form: HTMLFormElement, filledMs: number): Promise<SendResult> {
  const body = new FormData(form);
  body.set('filled_ms', String(Math.max(0, Math.round(filledMs))));
  // AbortSignal.timeout is missing from older phone browsers; a timer works everywhere.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
  try {
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      body,
      headers: { Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'same-origin',
      signal: abort.signal,
    });
    const data: unknown = await response.json().catch(() => undefined);
    return resultOf(response.status, data);
  } catch {
    return { type: 'failed' };
  } finally {
    clearTimeout(timer);
  }
}

function resultOf(status: number, data: unknown): SendResult {
  const answer = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  if (status < 300 && answer['ok'] === true && typeof answer['reference'] === 'string') {
    return { type: 'sent', reference: answer['reference'] };
  }
  const fields = answer['fields'];
  if (status === 400 && typeof fields === 'object' && fields !== null) {
    return { type: 'invalid', fields: fields as FieldMessages };
  }
  const failed: SendResult = { type: 'failed' };
  if (typeof answer['message'] === 'string') failed.message = answer['message'];
  if (typeof answer['retryAfter'] === 'number') failed.retryAfter = answer['retryAfter'];
  return failed;
}
