// The field components as assistive technology meets them: each control named by its label or
// legend and described by its hint and error through aria-describedby, as GOV.UK Frontend does.
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { FormContext } from '../../../../src/intake/island/context.ts';
import { ConsentField, ContactFields } from '../../../../src/intake/island/fields/ContactFields.tsx';
import { ChoiceGroup, TextField } from '../../../../src/intake/island/fields/Field.tsx';
import { PhotoField } from '../../../../src/intake/island/fields/PhotoField.tsx';
import type { FieldMessages, FieldValues } from '../../../../src/intake/island/form.ts';
import { jpeg, png } from '../../../support/images.ts';
import { choosePhotos, control, PRIVACY_HREF, stringsFor, text, type Kind } from './support.tsx';

afterEach(cleanup);

interface Context {
  kind?: Kind;
  values?: FieldValues;
  errors?: FieldMessages;
  enhanced?: boolean;
}

/** A field inside the form's context, as the form gives it (the real provider, the real strings). */
function inForm(ui: ReactNode, { kind = 'help', values = {}, errors = {}, enhanced = true }: Context = {}) {
  const s = stringsFor(kind);
  const wrap = (changed: Context) => (
    <FormContext.Provider
      value={{ kind, s, values: changed.values ?? values, errors: changed.errors ?? errors, enhanced: changed.enhanced ?? enhanced }}
    >
      <form>{ui}</form>
    </FormContext.Provider>
  );
  const view = render(wrap({}));
  return { ...view, s, rerenderWith: (context: Context) => view.rerender(wrap(context)) };
}

const help = stringsFor('help');
const optional = text(help, 'form.optional');
const prefix = text(help, 'form.errorPrefix');
const required = text(help, 'errors.field.required');
const choose = text(help, 'errors.field.invalid_choice');

describe('TextField', () => {
  const label = `${text(help, 'help.form.place.label')} ${optional}`;
  const hint = text(help, 'help.form.place.hint');

  it('is named by its label and described by its hint; without an error it is not invalid', () => {
    inForm(<TextField name="place" ns="help.form" />);
    const input = screen.getByRole('textbox', { name: label, description: hint });
    expect(input.id).toBe('f-place');
    expect(input.getAttribute('aria-describedby')).toBe('h-place');
    expect(input.hasAttribute('aria-invalid')).toBe(false);
  });

  it('with an error is invalid and described by its hint, then the error read with its prefix', () => {
    inForm(<TextField name="place" ns="help.form" />, { errors: { place: required } });
    const input = screen.getByRole('textbox', { name: label, description: `${hint} ${prefix} ${required}` });
    expect(input.getAttribute('aria-describedby')).toBe('h-place e-place');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('e-place')!.closest('.field')!.classList).toContain('field--error');
  });

  it('without a hint is described by nothing, or by its error alone', () => {
    const { rerenderWith } = inForm(<TextField name="country" ns="help.form" />);
    expect(control('country').hasAttribute('aria-describedby')).toBe(false);
    rerenderWith({ errors: { country: required } });
    expect(screen.getByRole('textbox', { name: `${text(help, 'help.form.country.label')} ${optional}`, description: `${prefix} ${required}` })).toBe(control('country'));
  });

  it('marks a required field required and never "(optional)"; a textarea when it has rows', () => {
    inForm(<TextField name="message" ns="help.form" rows={6} required />);
    const message = screen.getByRole('textbox', { name: text(help, 'help.form.message.label') });
    expect(message.tagName).toBe('TEXTAREA');
    expect((message as HTMLTextAreaElement).required).toBe(true);
  });

  it('shows again what was typed when the answer page hands it back', () => {
    inForm(<TextField name="place" ns="help.form" />, { values: { place: ['у трассы'] } });
    expect(control('place').value).toBe('у трассы');
  });
});

describe('ChoiceGroup', () => {
  const legend = text(help, 'form.contact_safe.legend');
  const hint = text(help, 'form.contact_safe.hint');

  it('is a group named by its question and described by its hint, each option named by its own label', () => {
    inForm(<ChoiceGroup name="contact_safe" ns="form" type="radio" required />);
    const group = screen.getByRole('group', { name: legend, description: hint });
    expect(group.getAttribute('aria-describedby')).toBe('h-contact_safe');
    expect(screen.getByRole('radio', { name: text(help, 'form.contact_safe.yes') }).id).toBe('f-contact_safe-yes');
    expect(screen.getByRole('radio', { name: text(help, 'form.contact_safe.unsure') }).id).toBe('f-contact_safe-unsure');
  });

  it('with an error is described by its hint and then the error', () => {
    inForm(<ChoiceGroup name="contact_safe" ns="form" type="radio" required />, { errors: { contact_safe: choose } });
    const group = screen.getByRole('group', { name: legend, description: `${hint} ${prefix} ${choose}` });
    expect(group.getAttribute('aria-describedby')).toBe('h-contact_safe e-contact_safe');
  });

  it('takes option labels from the shared answers when told to, and says "(optional)" when it is', () => {
    inForm(<ChoiceGroup name="danger_now" ns="help.form" type="radio" optionNs="form.answer" />);
    screen.getByRole('group', { name: `${text(help, 'help.form.danger_now.legend')} ${optional}` });
    for (const answer of ['yes', 'no', 'unsure']) {
      expect(screen.getByRole('radio', { name: text(help, `form.answer.${answer}`) }).id).toBe(`f-danger_now-${answer}`);
    }
  });

  it('ticks again exactly the options that were chosen', () => {
    inForm(<ChoiceGroup name="situation" ns="help.form" type="checkbox" />, { values: { situation: ['labour', 'other'] } });
    const ticked = screen.getAllByRole('checkbox').filter((c) => (c as HTMLInputElement).checked).map((c) => (c as HTMLInputElement).value);
    expect(ticked).toEqual(['labour', 'other']);
  });
});

describe('ConsentField', () => {
  const label = text(help, 'form.consent.label');

  it('is a checkbox named by its label, invalid and described by the error only when there is one', () => {
    const { rerenderWith } = inForm(<ConsentField privacyHref={PRIVACY_HREF} />);
    const box = screen.getByRole('checkbox', { name: label });
    expect(box.hasAttribute('aria-describedby')).toBe(false);
    expect(box.hasAttribute('aria-invalid')).toBe(false);
    const consent = text(help, 'errors.field.consent_required');
    rerenderWith({ errors: { consent } });
    expect(screen.getByRole('checkbox', { name: label, description: `${prefix} ${consent}` }).getAttribute('aria-invalid')).toBe('true');
  });

  it('opens the privacy policy in a new tab, says so, and gives the new page no hold on this one', () => {
    inForm(<ConsentField privacyHref={PRIVACY_HREF} />);
    const link = screen.getByRole('link', { name: text(help, 'form.consent.link') });
    expect(link.getAttribute('href')).toBe(PRIVACY_HREF);
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toContain('noopener');
    expect(link.parentElement!.textContent).toContain(text(help, 'form.newTab'));
  });
});

describe('PhotoField', () => {
  const missing = stringsFor('missing');
  const rules = text(missing, 'missing.form.photos.rules');

  it('without JS, is named by its label in the page\'s language, described by the rules, and says nothing of its own', () => {
    inForm(<PhotoField />, { kind: 'missing', enhanced: false });
    const picker = screen.getByLabelText(text(missing, 'missing.form.photos.label'));
    expect(picker).toBe(control('photos'));
    expect(picker.getAttribute('aria-describedby')).toBe('h-photos');
    expect(document.getElementById('h-photos')!.textContent).toBe(rules);
    // The label is the button: right after the input, so it can show the input's keyboard focus.
    expect(picker.nextElementSibling?.matches('label.file-pick__button[for="f-photos"]')).toBe(true);
    expect(picker.classList.contains('visually-hidden')).toBe(false);
    expect(document.getElementById('h-photos-chosen')).toBeNull();
  });

  it('with JS, says in the page\'s language how many photos are chosen, and is described by it', () => {
    inForm(<PhotoField />, { kind: 'missing' });
    const picker = control('photos');
    expect(picker.classList.contains('visually-hidden')).toBe(true);
    expect(picker.getAttribute('aria-describedby')).toBe('h-photos h-photos-chosen');
    const status = document.getElementById('h-photos-chosen')!;
    expect(status.getAttribute('aria-live')).toBe('polite');
    expect(status.textContent).toBe(text(missing, 'missing.form.photos.none'));
    choosePhotos(picker, [new File([jpeg() as BlobPart], 'a.jpg', { type: 'image/jpeg' }), new File([png() as BlobPart], 'b.png', { type: 'image/png' })]);
    expect(status.textContent).toBe(text(missing, 'missing.form.photos.count').replace('{{n}}', '2'));
  });

  it('is named by its label and described by the rules', () => {
    inForm(<PhotoField />, { kind: 'missing' });
    const picker = screen.getByLabelText(text(missing, 'missing.form.photos.label'));
    expect(picker).toBe(control('photos'));
    expect(picker.getAttribute('aria-describedby')).toBe('h-photos h-photos-chosen');
    expect(document.getElementById('h-photos')!.textContent).toBe(rules);
    expect((picker as HTMLInputElement).multiple).toBe(true);
    expect((picker as HTMLInputElement).accept).toBe('image/jpeg,image/png,image/webp');
  });

  it('on the answer page is also described by "choose the photos again", and by its error', () => {
    const error = text(missing, 'errors.field.photo_type');
    inForm(<PhotoField />, { kind: 'missing', values: { person_name: ['Иван'] }, errors: { photos: error } });
    const picker = control('photos');
    expect(picker.getAttribute('aria-describedby')).toBe('h-photos h-photos-again e-photos h-photos-chosen');
    expect(document.getElementById('h-photos-again')!.textContent).toBe(text(missing, 'answer.error.photos'));
    expect(document.getElementById('e-photos')!.textContent).toBe(`${prefix} ${error}`);
    expect(picker.getAttribute('aria-invalid')).toBe('true');
  });

  it('previews the chosen photos on the device, each with its number, and lets the old previews go', () => {
    inForm(<PhotoField />, { kind: 'missing' });
    const picker = control('photos');
    choosePhotos(picker, [new File([jpeg() as BlobPart], 'a.jpg', { type: 'image/jpeg' }), new File([png() as BlobPart], 'b.png', { type: 'image/png' })]);
    const chosen = (n: number) => text(missing, 'missing.form.photos.chosen').replace('{{n}}', String(n));
    const first = screen.getAllByRole('img');
    expect(first.map((img) => img.getAttribute('alt'))).toEqual([chosen(1), chosen(2)]);
    expect(first.every((img) => img.getAttribute('src')!.startsWith('blob:'))).toBe(true);
    choosePhotos(picker, [new File([jpeg() as BlobPart], 'c.jpg', { type: 'image/jpeg' })]);
    const second = screen.getAllByRole('img');
    expect(second.map((img) => img.getAttribute('alt'))).toEqual([chosen(1)]);
    expect(second[0]!.getAttribute('src')).not.toBe(first[0]!.getAttribute('src'));
  });
});

describe('ContactFields', () => {
  const details = () => screen.getByText(text(help, 'form.contact.legend')).closest('fieldset')!;
  const notSafe = text(help, 'form.contact_safe.notSafe');

  it('with JS, keeps the contact details hidden and out of the post until "yes", and keeps what was typed', async () => {
    const user = userEvent.setup();
    inForm(<ContactFields />);
    expect(details().hidden).toBe(true);
    expect(details().disabled).toBe(true);
    await user.click(control('contact_safe', 'yes'));
    expect(details().hidden).toBe(false);
    expect(details().disabled).toBe(false);
    await user.type(control('contact_value'), '@maria');
    await user.click(control('contact_safe', 'no'));
    expect(screen.getByText(notSafe)).toBeTruthy();
    expect(details().disabled).toBe(true);
    // Browsers leave the controls of a disabled fieldset out of the form's data (HTML's "disabled"
    // covers a fieldset's descendants), so the contact is never sent. happy-dom's FormData looks
    // only at each control's own `disabled`: the fieldset is what is checked here, the browser
    // tests (tests/e2e/forms.spec.ts) check what is posted.
    expect(control('contact_value').closest('fieldset')).toBe(details());
    await user.click(control('contact_safe', 'yes'));
    expect(screen.queryByText(notSafe)).toBeNull();
    expect(details().disabled).toBe(false);
    expect(control('contact_value').value).toBe('@maria');
  });

  it('without JS, shows the contact details always, marked "only if it is safe"', () => {
    inForm(<ContactFields />, { enhanced: false });
    expect(details().hidden).toBe(false);
    expect(details().disabled).toBe(false);
    expect(screen.getByText(text(help, 'form.contact.onlyIfSafe'))).toBeTruthy();
  });

  it('on hydration, starts from the answer chosen before the script arrived', () => {
    const { rerenderWith } = inForm(<ContactFields />, { enhanced: false });
    // Chosen in the page before React listened: no React event, only the DOM state.
    control('contact_safe', 'yes').checked = true;
    rerenderWith({ enhanced: true });
    expect(details().hidden).toBe(false);
    expect(screen.queryByText(text(help, 'form.contact.onlyIfSafe'))).toBeNull();
  });
});
