import { expect } from '@playwright/test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Sink, SinkRequest } from '../../scripts/lib/sink.ts';
import { helpSample, missingSample } from '../../scripts/lib/samples.mjs';

/** Server settings that mail through the local Resend sink (the real SDK, pointed at it). */
export function mailEnv(sink: Sink): Record<string, string> {
  return { RESEND_API_KEY: 're_test_key', RESEND_BASE_URL: sink.url, STAFF_EMAILS: 'staff@example.org', MAIL_FROM: 'intake@example.org' };
}

/** Values no real application contains, to find anywhere they should not be. */
export const marker = (name: string) => `ZQX-${name}-${Math.random().toString(36).slice(2, 8)}`;

/** A complete, valid help request as form fields (Cyrillic included). */
export function helpFields(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return { ...helpSample, ...overrides };
}

/** A complete, valid missing-person request (photos are added as files). */
export function missingFields(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return { ...missingSample, ...overrides };
}

export function urlencoded(fields: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
  return body;
}

export function multipart(fields: Record<string, string | string[]>, photos: { bytes: Uint8Array; name: string; type: string }[] = []): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(name, v);
  for (const p of photos) form.append('photos', new Blob([new Uint8Array(p.bytes)], { type: p.type }), p.name);
  return form;
}

/** POSTs as our own page would (same Origin), asking for JSON unless told otherwise. */
export function post(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/applications`, {
    method: 'POST',
    body,
    headers: { origin: url, accept: 'application/json', ...headers },
  });
}

/** Waits until the sink has received `count` mails. */
export async function mailsFor(sink: Sink, reference: string, timeoutMs = 15_000): Promise<SinkRequest[]> {
  const find = () => sink.requests.filter((r) => (r.body as { subject?: string } | null)?.subject?.includes(reference));
  await expect.poll(() => find().length, { timeout: timeoutMs }).toBeGreaterThan(0);
  return find();
}

/** Every file under `dir`, recursively, as text (to grep for values that must not be there). */
export function filesUnder(dir: string): { path: string; text: string }[] {
  if (!existsSync(dir)) return [];
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((name) => {
      const path = join(d, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  return walk(dir).map((path) => ({ path, text: readFileSync(path, 'latin1') + readFileSync(path, 'utf8') }));
}
