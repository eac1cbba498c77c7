/**
 * The GOV.UK error summary: a heading and one link per problem, in the order of the form. It is
 * focused when it appears, so a screen reader reads it and the keyboard starts from it.
 */
import type { MouseEvent, Ref } from 'react';
import { FORM_ERROR } from '../contract/fields.ts';
import type { Kind } from '../contract/kinds.ts';
import { choiceOptions, labelOf, orderedErrors, targetId, type FieldMessages, type Strings } from './form.ts';

interface Props {
  kind: Kind;
  errors: FieldMessages;
  s: Strings;
  ref?: Ref<HTMLDivElement>;
}

/** Focus the control and scroll its question into view (the label or legend, not just the box). */
function goTo(event: MouseEvent<HTMLAnchorElement>, name: string) {
  const control = document.getElementById(targetId(name));
  if (control === null) return;
  event.preventDefault();
  const legend = control.closest('fieldset')?.querySelector('legend');
  const label = document.querySelector(`label[for="${control.id}"]`);
  (name in choiceOptions ? legend : (label ?? legend))?.scrollIntoView();
  control.focus({ preventScroll: true });
}

export function ErrorSummary({ kind, errors, s, ref }: Props) {
  return (
    <div className="error-summary" role="alert" tabIndex={-1} aria-labelledby="error-summary-title" ref={ref}>
      <h2 id="error-summary-title">{s['answer.error.summary']}</h2>
      <ul>
        {orderedErrors(kind, errors).map(([name, message]) => {
          const label = labelOf(kind, name, s);
          return (
            <li key={name}>
              {name === FORM_ERROR ? (
                message
              ) : (
                <a href={`#${targetId(name)}`} onClick={(e) => goTo(e, name)}>
                  {label === undefined ? message : `${label}: ${message}`}
                </a>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
