// Our own hydration (the CSP forbids Astro's inline loader): the page's server-rendered form is
// brought to life with the props it carries, without a mismatch and without losing what a person
// did before the script arrived.
import { screen, waitFor } from '@testing-library/react';
import { renderToString } from 'react-dom/server';
import { afterAll, expect, it, vi } from 'vitest';
import { IntakeForm, type IntakeFormProps } from '../../../../src/intake/island/IntakeForm.tsx';
import { control, PRIVACY_HREF, SLOW, stringsFor, text } from './support.tsx';

const s = stringsFor('help');
afterAll(() => {
  vi.restoreAllMocks();
  document.body.innerHTML = '';
});

it('hydrates the server\'s HTML from its data-intake props, with no mismatch, keeping what was done before', async () => {
  const props: IntakeFormProps = { kind: 'help', locale: 'ru', strings: s, privacyHref: PRIVACY_HREF, values: { place: ['у трассы'] } };
  // What IntakeIsland.astro writes into the page.
  const root = document.createElement('div');
  root.className = 'intake';
  root.dataset['intake'] = JSON.stringify(props);
  root.innerHTML = renderToString(<IntakeForm {...props} />);
  document.body.append(root);
  const form = root.querySelector('form')!;
  // Before the script: a plain form the browser checks itself, posting to the endpoint.
  expect(form.noValidate).toBe(false);
  expect(control('place').value).toBe('у трассы');
  // A person who answers before the script arrives.
  control('message').value = 'Держат на заводе';
  control('contact_safe', 'yes').checked = true;
  // React reports a hydration mismatch (and any other recoverable error) through console.error.
  const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);

  await import('../../../../src/intake/island/hydrate.ts');

  await waitFor(() => expect(form.noValidate).toBe(true), SLOW);
  expect(logged).not.toHaveBeenCalled();
  // The very elements the server rendered, not a second form.
  expect(root.querySelector('form')).toBe(form);
  expect(control('message').value).toBe('Держат на заводе');
  expect(control('place').value).toBe('у трассы');
  // The contact details follow the answer given before hydration; the no-JS hint is gone.
  await waitFor(() => expect(control('contact_value').closest('fieldset')!.hidden).toBe(false), SLOW);
  expect(screen.queryByText(text(s, 'form.contact.onlyIfSafe'))).toBeNull();
});
