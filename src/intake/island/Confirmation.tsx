/**
 * "Request received" with the reference code, big and spaced so it can be read out over a bad
 * line or written on a hand. Used in place of the form (JS) and on the answer page (no JS).
 */
import { Fragment, useEffect, useRef } from 'react';
import { contacts } from '../../site/contacts.ts';
import { telHref } from '../../site/links.ts';
import { formatForReading } from '../contract/reference.ts';
import type { Strings } from './form.ts';

interface Props {
  reference: string;
  /** The browser encrypted the request before sending it: said, since it is why they can trust the form. */
  sealed?: boolean;
  s: Strings;
  /** 1 on the answer page, 2 where the form was. */
  level: 1 | 2;
  /** Move focus to the heading when shown (in place of the form). */
  focus?: boolean;
}

export function Confirmation({ reference, sealed = false, s, level, focus = false }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focus) heading.current?.focus();
  }, [focus]);
  const Heading = level === 1 ? 'h1' : 'h2';
  return (
    <section className="confirmation" aria-labelledby="confirmation-title">
      <Heading id="confirmation-title" tabIndex={-1} ref={heading}>{s['answer.received.title']}</Heading>
      <p>{s['answer.received.reference']}</p>
      {/* A group never breaks across lines (someone copying it by hand must not get it wrong): only the hyphen may. */}
      <p className="reference" translate="no" dir="ltr">
        {formatForReading(reference).split(' - ').map((group, i) => (
          <Fragment key={group + i}>
            {i > 0 && ' - '}
            <span className="reference__group">{group}</span>
          </Fragment>
        ))}
      </p>
      <p className="notice">{s['answer.received.noted']}</p>
      {sealed && <p>{s['answer.received.encrypted']}</p>}
      <p>{s['answer.received.next']}</p>
      <p className="callout">
        <a href={telHref(contacts.police.display)}>{s['answer.received.danger']}</a>
      </p>
    </section>
  );
}
