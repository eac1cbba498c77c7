/**
 * The island's side of the endpoint contract: read the form as the server will, check it with
 * the server's own `validateFields`, then hand it to the encryption module, loaded only now.
 */
import type { AnswerErrorCode } from '../contract/answers.ts';
import { sniffImageType } from '../contract/image.ts';
import type { Application } from '../contract/validate.ts';
import type { UploadedFile } from '../contract/image.ts';
import type { FieldMessages } from './form.ts';

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

/** A checked application, ready to be encrypted on the device. */
export interface SealInput {
  application: Application;
  photos: UploadedFile[];
  /** The honeypot as typed (empty for people): the server drops bots quietly, as without JS. */
  website: string;
  /** Milliseconds since the page opened: the server drops "too fast" posts as bots. */
  filledMs: number;
}

/** The island's own failure code (never the server's): the browser could not encrypt. */
export const ENCRYPT_FAILED = 'encrypt_failed';

export type SendResult =
  | { type: 'sent'; reference: string; sealed: boolean }
  | { type: 'invalid'; fields: FieldMessages }
  | { type: 'failed'; error?: AnswerErrorCode | typeof ENCRYPT_FAILED; message?: string; retryAfter?: number; status?: number };

// A chunk named after the module (`encrypt.<hash>.js`): scripts/budget.mjs measures it against
// its own budget. The server renders the form but never sends it: its bundle leaves the module
// (and openpgp.js's browser-only build, which Node can not even resolve) out.
const loadEncryption = () =>
  import.meta.env.SSR ? Promise.reject(new Error('encryption runs in the browser')) : import('./encrypt.ts');

/**
 * Starts fetching the encryption module early, when a photo is chosen (photos take longest to
 * encrypt on a slow phone). Never before: a page that only looks at the form loads none of it.
 */
export function preloadEncryption(): void {
  loadEncryption().catch(() => undefined);
}

/** Encrypts on the device and sends; never throws: a failure of any kind is a `failed` result. */
export async function send(input: SealInput): Promise<SendResult> {
  let module: Awaited<ReturnType<typeof loadEncryption>>;
  try {
    module = await loadEncryption();
  } catch {
    // The chunk did not arrive: the connection, most likely.
    return { type: 'failed' };
  }
  return module.sendSealed(input);
}
