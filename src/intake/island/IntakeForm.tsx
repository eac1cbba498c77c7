/**
 * One of the two application forms. The server renders it to plain HTML that posts to the
 * endpoint without any JS (the server then encrypts); in the browser the same component is
 * hydrated and enhances that very form: it checks it with the server's schema, encrypts it on
 * the device, sends only ciphertext with `fetch`, and shows the errors or the reference code in
 * place. Nothing typed is stored anywhere but the form itself.
 */
import { useEffect, useRef, useState, type SubmitEvent } from 'react';
import { validateFields } from '../contract/validate.ts';
import type { Kind } from '../contract/kinds.ts';
import { Confirmation } from './Confirmation.tsx';
import { ConsentField, ContactFields } from './fields/ContactFields.tsx';
import { ErrorSummary } from './ErrorSummary.tsx';
import { HelpFields } from './fields/HelpFields.tsx';
import { MissingConsents, MissingFields } from './fields/MissingFields.tsx';
import { SendFailure } from './SendFailure.tsx';
import { FormContext } from './context.ts';
import { controlId, type FieldMessages, type FieldValues, type Strings } from './form.ts';
import { ENCRYPT_FAILED, readForm, send } from './submit.ts';
// The same URL the island's fetch uses: the endpoint takes a post without JS too.
import { ENDPOINT } from '../contract/endpoint.ts';

export interface IntakeFormProps {
  kind: Kind;
  locale: string;
  /** Only the strings this form uses, in the page's language (never every locale's file). */
  strings: Strings;
  privacyHref: string;
  values?: FieldValues;
  errors?: FieldMessages;
}

type Status =
  | { state: 'editing' }
  | { state: 'sending' }
  | { state: 'failed'; message: string | undefined; retryAfter: number | undefined }
  | { state: 'sent'; reference: string; sealed: boolean };

export function IntakeForm({ kind, locale, strings: s, privacyHref, values = {}, errors: initialErrors = {} }: IntakeFormProps) {
  const [enhanced, setEnhanced] = useState(false);
  const [errors, setErrors] = useState(initialErrors);
  const [status, setStatus] = useState<Status>({ state: 'editing' });
  // Bumped each time errors or a failure are shown, so focus moves even when they look the same.
  const [shown, setShown] = useState(0);
  const summary = useRef<HTMLDivElement>(null);
  const failure = useRef<HTMLHeadingElement>(null);
  // Set at once on a tap, before the photos are read: `status` only changes at the next render,
  // and a second tap meanwhile would send the application twice.
  const busy = useRef(false);

  useEffect(() => setEnhanced(true), []);
  useEffect(() => {
    if (shown > 0) (status.state === 'failed' ? failure : summary).current?.focus();
  }, [shown]);

  const message = (key: string) => s[`errors.field.${key}`] ?? s['errors.field.malformed'] ?? key;

  async function onSubmit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy.current) return;
    busy.current = true;
    try {
      await checkAndSend(event.currentTarget);
    } finally {
      busy.current = false;
    }
  }

  async function checkAndSend(form: HTMLFormElement) {
    const { fields, files } = await readForm(form);
    const checked = validateFields(fields, files);
    if (!checked.ok) {
      setErrors(Object.fromEntries(Object.entries(checked.fields).map(([name, key]) => [name, message(key)])));
      setStatus({ state: 'editing' });
      setShown((n) => n + 1);
      return;
    }
    setStatus({ state: 'sending' });
    const result = await send({
      application: checked.application,
      photos: files,
      website: fields.get('website')?.[0] ?? '',
      // Time since the page opened, not since hydration: on a slow network a person may fill the
      // whole form before the script arrives, and the server drops "too fast" posts as bots.
      filledMs: performance.now(),
    });
    if (result.type === 'sent') {
      setStatus({ state: 'sent', reference: result.reference, sealed: result.sealed });
    } else if (result.type === 'invalid') {
      setErrors(result.fields);
      setStatus({ state: 'editing' });
      setShown((n) => n + 1);
    } else {
      setErrors({});
      const message = result.message ?? (result.error === ENCRYPT_FAILED ? s['form.failure.encrypt'] : undefined);
      setStatus({ state: 'failed', message, retryAfter: result.retryAfter });
      setShown((n) => n + 1);
    }
  }

  if (status.state === 'sent') {
    return <Confirmation reference={status.reference} sealed={status.sealed} s={s} level={2} focus />;
  }

  const sending = status.state === 'sending';
  return (
    <FormContext.Provider value={{ kind, s, values, errors, enhanced }}>
      <form
        className="intake-form"
        method="post"
        action={ENDPOINT}
        encType="multipart/form-data"
        autoComplete="off"
        // The island shows its own messages; without JS the browser's own checks apply.
        noValidate={enhanced}
        onSubmit={onSubmit}
      >
        {Object.keys(errors).length > 0 && <ErrorSummary kind={kind} errors={errors} s={s} ref={summary} />}
        <input type="hidden" name="kind" value={kind} />
        <input type="hidden" name="locale" value={locale} />
        {/* The honeypot: people never see it, bots fill it in; the server drops such posts. */}
        <div className="visually-hidden" aria-hidden="true">
          <label htmlFor={controlId('website')}>{s['form.leaveEmpty']}</label>
          <input type="text" id={controlId('website')} name="website" tabIndex={-1} autoComplete="off" />
        </div>
        {kind === 'help' ? <HelpFields /> : <MissingFields />}
        <ContactFields />
        <ConsentField privacyHref={privacyHref} />
        {kind === 'missing' && <MissingConsents />}
        <h2>{s['form.next.title']}</h2>
        <p>{s[`${kind}.form.next`]}</p>
        {status.state === 'failed' && <SendFailure s={s} message={status.message} retryAfter={status.retryAfter} ref={failure} />}
        <p className="visually-hidden" aria-live="polite">{sending ? s['form.sending'] : ''}</p>
        <button type="submit" className="button" disabled={sending}>
          {sending ? s['form.sending'] : s['form.submit']}
        </button>
      </form>
    </FormContext.Provider>
  );
}
