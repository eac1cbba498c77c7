/**
 * When sending failed (no connection, a fault, too many requests): what happened, that nothing
 * was lost, the numbers to call now, and a button to send the same form again.
 */
import type { Ref } from 'react';
import { contacts } from '../../site/contacts.ts';
import { telHref } from '../../site/links.ts';
import { fill, type Strings } from './form.ts';

interface Props {
  s: Strings;
  /** The server's localized explanation; none when the server could not be reached. */
  message: string | undefined;
  retryAfter: number | undefined;
  ref?: Ref<HTMLHeadingElement>;
}

export function SendFailure({ s, message, retryAfter, ref }: Props) {
  return (
    <div className="failure">
      <h2 id="failure-title" tabIndex={-1} ref={ref}>{s['form.failure.title']}</h2>
      <p>{message ?? s['form.failure.network']}</p>
      {retryAfter !== undefined && <p>{fill(s['answer.error.retryAfter'] ?? '', { minutes: Math.max(1, Math.ceil(retryAfter / 60)) })}</p>}
      <p>
        {s['form.failure.call']} <a href={telHref(contacts.hotline.display)} dir="ltr">{contacts.hotline.display}</a>
      </p>
      <p>
        <a href={telHref(contacts.police.display)}>{s['answer.received.danger']}</a>
      </p>
      <button type="submit" className="button">{s['form.failure.retry']}</button>
    </div>
  );
}
