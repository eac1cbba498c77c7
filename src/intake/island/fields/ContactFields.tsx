/**
 * "Is it safe for us to contact you?" comes before any contact detail. Without JS the contact
 * fields are always shown, marked "only if it is safe", and the server requires them only after
 * a "yes". With JS they appear only after a "yes"; otherwise their fieldset is disabled, so what
 * was typed stays on screen for a change of mind but is never sent.
 */
import { useEffect, useRef, useState } from 'react';
import { ChoiceGroup, ErrorText, TextField } from './Field.tsx';
import { useForm } from '../context.ts';
import { controlId, errorId } from '../form.ts';

export function ContactFields() {
  const { s, values, enhanced } = useForm();
  const [safe, setSafe] = useState(values['contact_safe']?.[0]);
  const question = useRef<HTMLDivElement>(null);

  // The person may have answered before the script arrived: start from what the page shows.
  useEffect(() => {
    if (enhanced) setSafe(question.current?.querySelector<HTMLInputElement>('input:checked')?.value);
  }, [enhanced]);

  const open = !enhanced || safe === 'yes';
  return (
    <>
      <div ref={question}>
        <ChoiceGroup name="contact_safe" ns="form" type="radio" required onChange={(e) => setSafe(e.currentTarget.value)} />
      </div>
      {enhanced && (safe === 'no' || safe === 'unsure') && <p className="notice">{s['form.contact_safe.notSafe']}</p>}
      <fieldset className="group" hidden={!open} disabled={!open}>
        <legend>{s['form.contact.legend']}</legend>
        {!enhanced && <p className="hint">{s['form.contact.onlyIfSafe']}</p>}
        <ChoiceGroup name="contact_channels" ns="form" type="checkbox" required={enhanced} optional={false} hint={s['form.chooseAll']} />
        <TextField name="contact_value" ns="form" required={enhanced} optional={false} />
        <TextField name="contact_time" ns="form" />
        <TextField name="reply_language" ns="form" />
      </fieldset>
    </>
  );
}

/** Consent to processing: required by law and by the schema; the policy opens beside the form. */
export function ConsentField({ privacyHref }: { privacyHref: string }) {
  const { s, values, errors } = useForm();
  const error = errors['consent'];
  return (
    <fieldset className={error === undefined ? 'field' : 'field field--error'}>
      <legend>{s['form.consent.legend']}</legend>
      {/* A new tab, so following the link never loses what was typed here. */}
      <p className="hint">
        <a href={privacyHref} target="_blank" rel="noopener">{s['form.consent.link']}</a> {s['form.newTab']}
      </p>
      <ErrorText name="consent" />
      <div className="choice">
        <input
          type="checkbox"
          id={controlId('consent')}
          name="consent"
          value="yes"
          required
          defaultChecked={values['consent']?.[0] === 'yes'}
          aria-invalid={error === undefined ? undefined : true}
          aria-describedby={error === undefined ? undefined : errorId('consent')}
        />
        <label htmlFor={controlId('consent')}>{s['form.consent.label']}</label>
      </div>
    </fieldset>
  );
}
