// "Request received": the reference as a person must copy it by hand or read it over the phone.
import { readFileSync } from 'node:fs';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Confirmation } from '../../../../src/intake/island/Confirmation.tsx';
import { contacts } from '../../../../src/site/contacts.ts';
import { stringsFor, text } from './support.tsx';

afterEach(cleanup);

const s = stringsFor('help');
// Read as a file (from the project root, as the other tests do): Vitest hands CSS imports over empty, `?raw` too.
const siteCss = readFileSync('src/site/styles/global.css', 'utf8');
const REFERENCE = 'K7M2-PQ4X';

const shownReference = () => document.querySelector<HTMLElement>('.reference')!;
const groups = () => [...shownReference().querySelectorAll<HTMLElement>('.reference__group')];

describe('Confirmation', () => {
  it('shows the reference in its two groups, each symbol spaced, the hyphen between them outside both', () => {
    render(<Confirmation reference={REFERENCE} s={s} level={2} />);
    expect(groups().map((g) => g.textContent)).toEqual(['K 7 M 2', 'P Q 4 X']);
    expect(shownReference().textContent).toBe('K 7 M 2 - P Q 4 X');
    // Read back without the spacing, it is the reference itself.
    expect(shownReference().textContent!.replace(/\s/g, '')).toBe(REFERENCE);
  });

  it('never breaks a line inside a group with the site\'s stylesheet, only at the hyphen', () => {
    const style = document.createElement('style');
    style.textContent = siteCss;
    document.head.append(style);
    try {
      render(<Confirmation reference={REFERENCE} s={s} level={2} />);
      expect(groups()).toHaveLength(2);
      for (const group of groups()) expect(getComputedStyle(group).whiteSpace).toBe('nowrap');
      expect(getComputedStyle(shownReference()).whiteSpace).not.toBe('nowrap');
    } finally {
      style.remove();
    }
  });

  it('keeps the code left to right and away from page translators, on a right-to-left page too', () => {
    render(<div dir="rtl"><Confirmation reference={REFERENCE} s={s} level={2} /></div>);
    expect(shownReference().getAttribute('dir')).toBe('ltr');
    expect(shownReference().getAttribute('translate')).toBe('no');
  });

  it('is a section named by its heading: h2 in place of the form, taking focus there', () => {
    render(<Confirmation reference={REFERENCE} s={s} level={2} focus />);
    const heading = screen.getByRole('heading', { level: 2, name: text(s, 'answer.received.title') });
    expect(document.activeElement).toBe(heading);
    expect(screen.getByRole('region', { name: text(s, 'answer.received.title') })).toBeTruthy();
  });

  it('is h1 on the answer page, where focus stays where the browser put it', () => {
    render(<Confirmation reference={REFERENCE} s={s} level={1} />);
    const heading = screen.getByRole('heading', { level: 1, name: text(s, 'answer.received.title') });
    expect(document.activeElement).not.toBe(heading);
  });

  it('says the request was encrypted on the device only when it was', () => {
    const encrypted = text(s, 'answer.received.encrypted');
    const { rerender } = render(<Confirmation reference={REFERENCE} s={s} level={2} />);
    expect(screen.queryByText(encrypted)).toBeNull();
    rerender(<Confirmation reference={REFERENCE} s={s} level={2} sealed />);
    expect(screen.getByText(encrypted)).toBeTruthy();
  });

  it('tells them to write the code down, what happens next, and the emergency number as a link', () => {
    render(<Confirmation reference={REFERENCE} s={s} level={2} />);
    expect(screen.getByText(text(s, 'answer.received.noted'))).toBeTruthy();
    expect(screen.getByText(text(s, 'answer.received.next'))).toBeTruthy();
    expect(screen.getByRole('link', { name: text(s, 'answer.received.danger') }).getAttribute('href')).toBe(`tel:${contacts.police.tel}`);
  });
});
