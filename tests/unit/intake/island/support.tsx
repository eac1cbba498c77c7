/**
 * What the island's unit tests share: the real Russian UI strings as a page hands them to the
 * island, and the form rendered as a page renders it. The stand-in for the endpoint is in
 * endpoint.ts, apart: only the tests that send need openpgp.js.
 */
import { fireEvent, render, screen } from '@testing-library/react';
import { useTranslations } from '../../../../src/i18n/index.ts';
import { IntakeForm, type IntakeFormProps } from '../../../../src/intake/island/IntakeForm.tsx';
import { controlId, type Strings } from '../../../../src/intake/island/form.ts';
import { formStrings } from '../../../../src/intake/island/strings.ts';

export type Kind = 'help' | 'missing';

/** The strings a Russian form page gives its island (the same call IntakeIsland.astro makes). */
export function stringsFor(kind: Kind): Strings {
  return formStrings(useTranslations('ru'), kind);
}

/** A UI string that must exist: a missing one fails here, not as `undefined` equal to `undefined`. */
export function text(s: Strings, key: string): string {
  const value = s[key];
  if (value === undefined || value === '') throw new Error(`no UI string "${key}" among the form's strings`);
  return value;
}

export const PRIVACY_HREF = '/ru/privacy/';

/** The island as a page renders it, in Russian. */
export function renderForm(kind: Kind, props: Partial<IntakeFormProps> = {}) {
  const s = stringsFor(kind);
  const view = render(<IntakeForm kind={kind} locale="ru" strings={s} privacyHref={PRIVACY_HREF} {...props} />);
  return { ...view, s };
}

/** The control with the form model's id, or a failure naming it. */
export function control<T extends HTMLElement = HTMLInputElement>(name: string, option?: string): T {
  const element = document.getElementById(controlId(name, option));
  if (element === null) throw new Error(`no control #${controlId(name, option)}`);
  return element as T;
}

/**
 * Chooses files in a file input as the browser does: sets its list, then says it changed.
 * user-event's upload() defines `files` on the element itself, which happy-dom's FormData never
 * reads (it reads its own list), so the form would post no photo.
 */
export function choosePhotos(input: HTMLInputElement, files: File[]): void {
  const transfer = new DataTransfer();
  for (const file of files) transfer.items.add(file);
  input.files = transfer.files;
  fireEvent.change(input);
}

/** Encryption and the answer take a few event-loop turns; on a busy machine, more. */
export const SLOW = { timeout: 5000 };

/** The submit button, by its accessible name (which changes while sending). */
export const submitButton = (s: Strings) => screen.getByRole('button', { name: text(s, 'form.submit') });
