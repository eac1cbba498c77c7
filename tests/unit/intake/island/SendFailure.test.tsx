// The failure screen on its own: what happened, when to try again, whom to call now.
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fill } from '../../../../src/intake/island/form.ts';
import { SendFailure } from '../../../../src/intake/island/SendFailure.tsx';
import { contacts } from '../../../../src/site/contacts.ts';
import { stringsFor, text } from './support.tsx';

afterEach(cleanup);

const s = stringsFor('help');
const wait = (minutes: number) => fill(text(s, 'answer.error.retryAfter'), { minutes });

describe('SendFailure', () => {
  it('without the server\'s words says the connection failed and that nothing typed is lost', () => {
    render(<SendFailure s={s} message={undefined} retryAfter={undefined} />);
    expect(screen.getByRole('heading', { level: 2, name: text(s, 'form.failure.title') })).toBeTruthy();
    expect(screen.getByText(text(s, 'form.failure.network'))).toBeTruthy();
  });

  it('gives the server\'s explanation in place of the network one', () => {
    render(<SendFailure s={s} message="Сбой сервера" retryAfter={undefined} />);
    expect(screen.getByText('Сбой сервера')).toBeTruthy();
    expect(screen.queryByText(text(s, 'form.failure.network'))).toBeNull();
  });

  it.each([
    [1, 1],
    [60, 1],
    [61, 2],
    [600, 10],
    [0, 1],
  ])('after %i s to wait, asks to try again in %i min (never "0 min")', (seconds, minutes) => {
    render(<SendFailure s={s} message="Слишком много заявок" retryAfter={seconds} />);
    expect(screen.getByText(wait(minutes))).toBeTruthy();
  });

  it('says nothing about waiting when the server gave no time', () => {
    const { container } = render(<SendFailure s={s} message="Сбой" retryAfter={undefined} />);
    expect(container.textContent).not.toContain(text(s, 'answer.error.retryAfter').split('{{')[0]!.trim());
  });

  it('offers the free hotline, left to right, and the police, as links to call', () => {
    render(<SendFailure s={s} message={undefined} retryAfter={undefined} />);
    expect(screen.getByText(text(s, 'form.failure.call'), { exact: false })).toBeTruthy();
    const hotline = screen.getByRole('link', { name: contacts.hotline.display });
    expect(hotline.getAttribute('href')).toBe(`tel:${contacts.hotline.tel}`);
    expect(hotline.getAttribute('dir')).toBe('ltr');
    expect(screen.getByRole('link', { name: text(s, 'answer.received.danger') }).getAttribute('href')).toBe(`tel:${contacts.police.tel}`);
  });

  it('has a retry button that submits the form it stands in', () => {
    render(<SendFailure s={s} message={undefined} retryAfter={undefined} />);
    expect(screen.getByRole('button', { name: text(s, 'form.failure.retry') }).getAttribute('type')).toBe('submit');
  });
});
