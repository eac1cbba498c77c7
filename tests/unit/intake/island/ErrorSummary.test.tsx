// The GOV.UK error summary on its own and inside the real form: what it lists, in which order,
// and where each of its links takes the keyboard.
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorSummary } from '../../../../src/intake/island/ErrorSummary.tsx';
import { control, renderForm, stringsFor, text } from './support.tsx';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const s = stringsFor('help');
const required = text(s, 'errors.field.required');
const choose = text(s, 'errors.field.invalid_choice');
const consent = text(s, 'errors.field.consent_required');
const malformed = text(s, 'errors.field.malformed');

/** The summary's items as a person reads them. */
const items = () => within(screen.getByRole('alert')).getAllByRole('listitem').map((li) => li.textContent);

describe('ErrorSummary', () => {
  it('is an alert named by its heading, focusable by script but not in the tab order', () => {
    render(<ErrorSummary kind="help" errors={{ message: required }} s={s} />);
    const summary = screen.getByRole('alert', { name: text(s, 'answer.error.summary') });
    expect(summary.tabIndex).toBe(-1);
    expect(within(summary).getByRole('heading', { level: 2 }).textContent).toBe(text(s, 'answer.error.summary'));
  });

  it('lists errors in the order of the form, whatever order they come in, the form-wide one first', () => {
    // The order a server's JSON or the schema may give: not the form's.
    const errors = { consent, message: required, _form: malformed, for: choose, contact_safe: choose };
    render(<ErrorSummary kind="help" errors={errors} s={s} />);
    expect(items()).toEqual([
      malformed,
      `${text(s, 'help.form.for.legend')}: ${choose}`,
      `${text(s, 'help.form.message.label')}: ${required}`,
      `${text(s, 'form.contact_safe.legend')}: ${choose}`,
      `${text(s, 'form.consent.legend')}: ${consent}`,
    ]);
  });

  it('follows the missing-person form\'s own order, which differs from the help form\'s', () => {
    const m = stringsFor('missing');
    const errors = { consent_show_rescued: choose, applicant_name: required, photos: text(m, 'errors.field.photo_type'), person_name: required };
    render(<ErrorSummary kind="missing" errors={errors} s={m} />);
    expect(items()).toEqual([
      `${text(m, 'missing.form.person_name.label')}: ${required}`,
      `${text(m, 'missing.form.photos.legend')}: ${text(m, 'errors.field.photo_type')}`,
      `${text(m, 'missing.form.applicant_name.label')}: ${required}`,
      `${text(m, 'missing.form.consent_show_rescued.legend')}: ${choose}`,
    ]);
  });

  it('links a text field to its control and a choice group to its first option; the form-wide error is no link', () => {
    render(<ErrorSummary kind="help" errors={{ _form: malformed, message: required, situation: choose, consent }} s={s} />);
    const links = within(screen.getByRole('alert')).getAllByRole('link');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['#f-situation-labour', '#f-message', '#f-consent']);
    expect(within(screen.getByRole('alert')).queryByRole('link', { name: malformed })).toBeNull();
  });

  it('puts a field it has no label for after the form\'s fields, with the message alone', () => {
    render(<ErrorSummary kind="help" errors={{ website: malformed, for: choose }} s={s} />);
    expect(items()).toEqual([`${text(s, 'help.form.for.legend')}: ${choose}`, malformed]);
  });
});

describe('ErrorSummary in the form', () => {
  it('a link to a text field focuses that field and scrolls its label into view', async () => {
    const user = userEvent.setup();
    renderForm('help', { errors: { for: choose, message: required } });
    const scrolled = vi.spyOn(Element.prototype, 'scrollIntoView');
    await user.click(screen.getByRole('link', { name: `${text(s, 'help.form.message.label')}: ${required}` }));
    expect(document.activeElement).toBe(control('message'));
    expect(scrolled.mock.contexts).toEqual([document.querySelector('label[for="f-message"]')]);
  });

  it('a link to a question of radios focuses its first option and scrolls the question (the legend) into view', async () => {
    const user = userEvent.setup();
    renderForm('help', { errors: { message: required, for: choose } });
    const scrolled = vi.spyOn(Element.prototype, 'scrollIntoView');
    await user.click(screen.getByRole('link', { name: `${text(s, 'help.form.for.legend')}: ${choose}` }));
    expect(document.activeElement).toBe(control('for', 'self'));
    const legend = scrolled.mock.contexts[0] as Element;
    expect(legend.tagName).toBe('LEGEND');
    expect(legend.textContent).toContain(text(s, 'help.form.for.legend'));
  });

  it('a link to a consent question of the missing-person form lands on its first answer', async () => {
    const user = userEvent.setup();
    const m = stringsFor('missing');
    renderForm('missing', { errors: { consent_publish: choose } });
    await user.click(screen.getByRole('link', { name: `${text(m, 'missing.form.consent_publish.legend')}: ${choose}` }));
    expect(document.activeElement).toBe(control('consent_publish', 'yes'));
  });

  it('a link whose control is not on the page is left to the browser (the jump is not cancelled)', () => {
    render(<ErrorSummary kind="help" errors={{ message: required }} s={s} />);
    const link = screen.getByRole('link');
    // fireEvent returns false when a handler cancelled the default action.
    expect(fireEvent.click(link)).toBe(true);
  });
});
