// The whole island as a person uses it: check, encrypt on the device, send, and what it shows
// for each answer. Only `fetch` is replaced (FakeEndpoint, with a real staff key); the schema,
// the report, openpgp.js's browser build and the retry rules are the real ones.
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent, { type UserEvent } from '@testing-library/user-event';
import * as openpgp from 'openpgp';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fill } from '../../../../src/intake/island/form.ts';
import { contacts } from '../../../../src/site/contacts.ts';
import { jpeg } from '../../../support/images.ts';
import type { TestKeyPair } from '../../../support/keys.ts';
import { FakeEndpoint, ISSUED, staffKeyPair } from './endpoint.ts';
import { choosePhotos, control, renderForm, SLOW, stringsFor, submitButton, text } from './support.tsx';

let staff: TestKeyPair;
let endpoint: FakeEndpoint;

beforeAll(async () => {
  staff = await staffKeyPair();
});
beforeEach(() => {
  endpoint = new FakeEndpoint(staff);
  vi.stubGlobal('fetch', endpoint.fetch);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const s = stringsFor('help');
const PLACE = 'Кирпичный завод у трассы';
// encrypt.ts keeps the last post that got no answer, for a retry of the same application, for
// as long as the page lives (here: the worker, which the island's files share). Each test types
// its own message, so no test re-sends another's bytes.
let messages = 0;
const newMessage = () => `Нас держат на заводе, паспорта забрали (${++messages}).`;

/** Types into a field; pasted at once, since key-by-key typing is slow and tested nowhere here. */
async function typeInto(user: UserEvent, field: HTMLElement, value: string) {
  await user.click(field);
  await user.paste(value);
}

async function fillHelp(user: UserEvent, message: string) {
  await user.click(control('for', 'self'));
  await user.click(control('situation', 'labour'));
  await typeInto(user, control('place'), PLACE);
  await typeInto(user, control('message'), message);
  await user.click(control('contact_safe', 'no'));
  await user.click(control('consent'));
}

/** The failure screen once it is shown, with focus on its heading (where a screen reader starts). */
async function failureShown() {
  const heading = await screen.findByRole('heading', { name: text(s, 'form.failure.title') }, SLOW);
  await waitFor(() => expect(document.activeElement).toBe(heading));
  return heading.closest<HTMLElement>('.failure')!;
}

/** The confirmation once it is shown in place of the form, focused, and the code it shows. */
async function confirmationShown(): Promise<string> {
  const heading = await screen.findByRole('heading', { level: 2, name: text(s, 'answer.received.title') }, SLOW);
  await waitFor(() => expect(document.activeElement).toBe(heading));
  expect(document.querySelector('form')).toBeNull();
  return document.querySelector('.reference')!.textContent!.replace(/\s/g, '');
}

/** The error summary once it is shown and focused, as its lines read. */
async function summaryShown(): Promise<string[]> {
  const summary = await screen.findByRole('alert', { name: text(s, 'answer.error.summary') }, SLOW);
  await waitFor(() => expect(document.activeElement).toBe(summary));
  return within(summary).getAllByRole('listitem').map((li) => li.textContent!);
}

const retryButton = () => screen.getByRole('button', { name: text(s, 'form.failure.retry') });

describe('checking on the device', () => {
  it('an empty submit shows the focused summary in the form\'s order, each error at its field, and sends nothing', async () => {
    const user = userEvent.setup();
    renderForm('help');
    await user.click(submitButton(s));
    expect(await summaryShown()).toEqual([
      `${text(s, 'help.form.for.legend')}: ${text(s, 'errors.field.invalid_choice')}`,
      `${text(s, 'help.form.message.label')}: ${text(s, 'errors.field.required')}`,
      `${text(s, 'form.contact_safe.legend')}: ${text(s, 'errors.field.invalid_choice')}`,
      `${text(s, 'form.consent.legend')}: ${text(s, 'errors.field.consent_required')}`,
    ]);
    expect(document.getElementById('e-message')!.textContent).toBe(`${text(s, 'form.errorPrefix')} ${text(s, 'errors.field.required')}`);
    expect(control('message').getAttribute('aria-invalid')).toBe('true');
    expect(endpoint.fetch).not.toHaveBeenCalled();
  });

  it('keeps what was typed after an error, and sends the form once it is put right', async () => {
    const user = userEvent.setup();
    const message = newMessage();
    renderForm('help');
    await typeInto(user, control('place'), PLACE);
    await typeInto(user, control('message'), message);
    await user.click(control('situation', 'documents_taken'));
    await user.click(control('consent'));
    await user.click(submitButton(s));
    expect(await summaryShown()).toEqual([
      `${text(s, 'help.form.for.legend')}: ${text(s, 'errors.field.invalid_choice')}`,
      `${text(s, 'form.contact_safe.legend')}: ${text(s, 'errors.field.invalid_choice')}`,
    ]);
    expect(control('place').value).toBe(PLACE);
    expect(control('message').value).toBe(message);
    expect(control('situation', 'documents_taken').checked).toBe(true);
    expect(control('consent').checked).toBe(true);
    expect(control('message').hasAttribute('aria-invalid')).toBe(false);

    await user.click(control('for', 'other'));
    await user.click(control('contact_safe', 'unsure'));
    await user.click(submitButton(s));
    expect(await confirmationShown()).toBe(ISSUED[0]);
    expect(await endpoint.openReport(endpoint.posts[0]!)).toContain(message);
  });

  it('once running, switches the browser\'s own checks off for its own; the form still posts to the endpoint', () => {
    const { container } = renderForm('help');
    expect(container.querySelector('form')!.noValidate).toBe(true);
    expect(container.querySelector('form')!.getAttribute('action')).toBe('/api/applications');
  });
});

describe('sending', () => {
  it('sends only ciphertext and the few clear fields, and the staff key opens what was typed', async () => {
    const user = userEvent.setup();
    const message = newMessage();
    renderForm('help');
    await fillHelp(user, message);
    await user.click(submitButton(s));
    expect(await confirmationShown()).toBe(ISSUED[0]);
    expect(screen.getByText(text(s, 'answer.received.encrypted'))).toBeTruthy();

    const [post] = endpoint.posts;
    expect([...post!.keys()].sort()).toEqual(['consent', 'filled_ms', 'kind', 'locale', 'reference', 'reference_ticket', 'sealed', 'website']);
    expect(Object.fromEntries([...post!.entries()].filter(([name]) => name !== 'sealed' && name !== 'filled_ms'))).toEqual({
      kind: 'help', locale: 'ru', consent: 'yes', website: '', reference: ISSUED[0], reference_ticket: `ticket-${ISSUED[0]}`,
    });
    expect(post!.get('filled_ms')).toMatch(/^\d+$/);
    expect(String(post!.get('sealed'))).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    expect(String(post!.get('sealed'))).not.toContain(message);
    const report = await endpoint.openReport(post!);
    expect(report).toContain(message);
    expect(report).toContain(PLACE);
    expect(report).toContain(ISSUED[0]);
  });

  it('while sending, the button is disabled and says so, for the eye and the screen reader', async () => {
    const user = userEvent.setup();
    let answer: (value: { status: number; body: unknown }) => void = () => undefined;
    endpoint.answerPosts(new Promise((resolve) => (answer = resolve)));
    renderForm('help');
    await fillHelp(user, newMessage());
    await user.click(submitButton(s));
    const busy = await screen.findByRole('button', { name: text(s, 'form.sending') }, SLOW);
    expect((busy as HTMLButtonElement).disabled).toBe(true);
    expect(document.querySelector('[aria-live="polite"]')!.textContent).toBe(text(s, 'form.sending'));
    await waitFor(() => expect(endpoint.posts).toHaveLength(1), SLOW);
    answer({ status: 201, body: { ok: true, reference: ISSUED[0], sealed: true } });
    expect(await confirmationShown()).toBe(ISSUED[0]);
  });

  it('missing person: the photo goes as an encrypted part of its own, its name left behind, and opens to the same bytes', async () => {
    const user = userEvent.setup();
    const { s: m } = renderForm('missing');
    const photo = jpeg();
    await typeInto(user, control('person_name'), 'Иванов Иван');
    await typeInto(user, control('last_seen_place'), 'Махачкала, автовокзал');
    await typeInto(user, control('circumstances'), newMessage());
    choosePhotos(control('photos'), [new File([photo as BlobPart], 'IMG_0042 Иван.jpg', { type: 'image/jpeg' })]);
    await typeInto(user, control('applicant_name'), 'Мария');
    await user.click(control('contact_safe', 'no'));
    await user.click(control('consent'));
    await user.click(control('consent_publish', 'no'));
    await user.click(control('consent_show_rescued', 'yes'));
    await user.click(screen.getByRole('button', { name: text(m, 'form.submit') }));
    await screen.findByRole('heading', { name: text(m, 'answer.received.title') }, SLOW);

    const parts = endpoint.posts[0]!.getAll('sealed_photos') as File[];
    // Each part's file name (the reference and a number) is checked in tests/e2e/encryption.spec.ts:
    // happy-dom's FormData names every appended Blob "blob".
    expect(parts).toHaveLength(1);
    expect(endpoint.posts[0]!.has('photos')).toBe(false);
    expect(new TextDecoder().decode(await parts[0]!.arrayBuffer())).not.toContain('IMG_0042');
    const decryptionKeys = await openpgp.readPrivateKey({ armoredKey: staff.privateKey });
    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(await parts[0]!.arrayBuffer()) });
    const opened = await openpgp.decrypt({ message, decryptionKeys, format: 'binary' });
    expect(opened.data).toEqual(photo);
    expect(opened.filename).toBe('photo-1.jpg');
  });
});

describe('sending twice', () => {
  // `sending` is only set once readForm() has read every photo: a second tap meanwhile must not
  // start a second send (two references, two reports to staff, one code shown).
  it('a second tap while the photos are still being read sends the application only once', async () => {
    const user = userEvent.setup();
    const { s: m } = renderForm('missing');
    await typeInto(user, control('person_name'), 'Иванов Иван');
    await typeInto(user, control('last_seen_place'), 'Махачкала, автовокзал');
    await typeInto(user, control('circumstances'), newMessage());
    // A large photo on a slow phone: its bytes arrive when the test says so.
    let read: () => void = () => undefined;
    const bytesArrive = new Promise<void>((resolve) => (read = resolve));
    class SlowFile extends File {
      override async arrayBuffer(): Promise<ArrayBuffer> {
        await bytesArrive;
        return super.arrayBuffer();
      }
    }
    choosePhotos(control('photos'), [new SlowFile([jpeg() as BlobPart], 'photo.jpg', { type: 'image/jpeg' })]);
    await typeInto(user, control('applicant_name'), 'Мария');
    await user.click(control('contact_safe', 'no'));
    await user.click(control('consent'));
    await user.click(control('consent_publish', 'no'));
    await user.click(control('consent_show_rescued', 'yes'));
    const button = screen.getByRole('button', { name: text(m, 'form.submit') });
    await user.click(button);
    await user.click(button);
    read();
    await screen.findByRole('heading', { name: text(m, 'answer.received.title') }, SLOW);
    // Every send that started (each asks for keys first) has posted by now, or soon.
    await waitFor(() => expect(endpoint.posts).toHaveLength(endpoint.gets), SLOW);
    expect(endpoint.gets).toBe(1);
    expect(endpoint.posts).toHaveLength(1);
  });
});

describe('when sending fails', () => {
  it('no answer: the failure, focused, with the hotline to call; every value stays in the form', async () => {
    const user = userEvent.setup();
    const message = newMessage();
    endpoint.answerPosts('offline');
    renderForm('help');
    await fillHelp(user, message);
    await user.click(submitButton(s));
    const failure = await failureShown();
    expect(within(failure).getByText(text(s, 'form.failure.network'))).toBeTruthy();
    const hotline = within(failure).getByRole('link', { name: contacts.hotline.display });
    expect(hotline.getAttribute('href')).toBe(`tel:${contacts.hotline.tel}`);
    expect(within(failure).getByRole('link', { name: text(s, 'answer.received.danger') }).getAttribute('href')).toBe(`tel:${contacts.police.tel}`);
    expect(control('message').value).toBe(message);
    expect(control('place').value).toBe(PLACE);
    expect(control('for', 'self').checked).toBe(true);
    expect(control('situation', 'labour').checked).toBe(true);
    expect(control('contact_safe', 'no').checked).toBe(true);
    expect(control('consent').checked).toBe(true);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(retryButton()).toBeTruthy();
  });

  it('retry after a lost answer sends the very same sealed bytes again (so staff never get it twice) and shows the confirmation', async () => {
    const user = userEvent.setup();
    endpoint.answerPosts('offline');
    renderForm('help');
    await fillHelp(user, newMessage());
    await user.click(submitButton(s));
    await failureShown();
    await user.click(retryButton());
    expect(await confirmationShown()).toBe(ISSUED[0]);
    expect(endpoint.gets).toBe(1);
    expect(endpoint.posts).toHaveLength(2);
    expect(endpoint.posts[1]!.get('sealed')).toBe(endpoint.posts[0]!.get('sealed'));
    expect(endpoint.posts[1]!.get('reference')).toBe(ISSUED[0]);
  });

  it('a server fault and then a limit: the server\'s words and when to try again; the form stays filled; retry sends again', async () => {
    const user = userEvent.setup();
    const message = newMessage();
    endpoint.answerPosts(
      { status: 503, body: { ok: false, error: 'unavailable', message: 'Сбой сервера', retryAfter: 60 } },
      { status: 429, body: { ok: false, error: 'rate_limited', message: 'Слишком много заявок', retryAfter: 600 } },
    );
    renderForm('help');
    await fillHelp(user, message);
    await user.click(submitButton(s));
    let failure = await failureShown();
    expect(within(failure).getByText('Сбой сервера')).toBeTruthy();
    expect(within(failure).getByText(fill(text(s, 'answer.error.retryAfter'), { minutes: 1 }))).toBeTruthy();
    expect(within(failure).queryByText(text(s, 'form.failure.network'))).toBeNull();

    await user.click(retryButton());
    await waitFor(() => expect(screen.getByText('Слишком много заявок')).toBeTruthy(), SLOW);
    failure = await failureShown();
    expect(within(failure).getByText(fill(text(s, 'answer.error.retryAfter'), { minutes: 10 }))).toBeTruthy();
    expect(control('message').value).toBe(message);

    await user.click(retryButton());
    // A refusal (429) settled the first reference: the retry asks for a new one and seals anew.
    expect(await confirmationShown()).toBe(ISSUED[1]);
    expect(endpoint.posts.map((post) => post.get('reference'))).toEqual([ISSUED[0], ISSUED[0], ISSUED[1]]);
    expect(await endpoint.openReport(endpoint.posts[2]!)).toContain(message);
  });

  it('field errors from the server (400) are shown like the island\'s own, at the field, with the values kept', async () => {
    const user = userEvent.setup();
    const controlChars = text(s, 'errors.field.control_chars');
    endpoint.answerPosts({ status: 400, body: { ok: false, error: 'validation', message: 'Проверьте заявку', fields: { place: controlChars } } });
    renderForm('help');
    await fillHelp(user, newMessage());
    await user.click(submitButton(s));
    expect(await summaryShown()).toEqual([`${text(s, 'help.form.place.label')}: ${controlChars}`]);
    expect(document.getElementById('e-place')!.textContent).toBe(`${text(s, 'form.errorPrefix')} ${controlChars}`);
    expect(control('place').getAttribute('aria-invalid')).toBe('true');
    expect(control('place').value).toBe(PLACE);
    expect(screen.queryByRole('heading', { name: text(s, 'form.failure.title') })).toBeNull();
  });

  it('keys changed since they were fetched: fetched again and sealed anew, unseen, once', async () => {
    const user = userEvent.setup();
    endpoint.answerPosts({ status: 409, body: { ok: false, error: 'keys_changed', message: 'Ключи сменились' } });
    renderForm('help');
    await fillHelp(user, newMessage());
    await user.click(submitButton(s));
    expect(await confirmationShown()).toBe(ISSUED[1]);
    expect(endpoint.gets).toBe(2);
    expect(endpoint.posts).toHaveLength(2);
    expect(screen.queryByText('Ключи сменились')).toBeNull();
  });

  it('keys that changed twice: the server\'s words are shown, nothing is retried behind the person\'s back', async () => {
    const user = userEvent.setup();
    const changed = { status: 409, body: { ok: false, error: 'keys_changed', message: 'Ключи сменились' } };
    endpoint.answerPosts(changed, changed);
    renderForm('help');
    await fillHelp(user, newMessage());
    await user.click(submitButton(s));
    const failure = await failureShown();
    expect(within(failure).getByText('Ключи сменились')).toBeTruthy();
    expect(endpoint.posts).toHaveLength(2);
  });

  it('keys the browser can not trust (fingerprints do not match): says it could not encrypt, and sends nothing', async () => {
    const user = userEvent.setup();
    endpoint.fingerprints = ['0'.repeat(40)];
    const message = newMessage();
    renderForm('help');
    await fillHelp(user, message);
    await user.click(submitButton(s));
    const failure = await failureShown();
    expect(within(failure).getByText(text(s, 'form.failure.encrypt'))).toBeTruthy();
    expect(endpoint.gets).toBe(1);
    expect(endpoint.posts).toEqual([]);
    expect(control('message').value).toBe(message);
  });
});
