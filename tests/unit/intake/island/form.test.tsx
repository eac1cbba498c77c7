// The form model (form.ts) against the forms the field components really render: the summary
// and the tests derive from it, so it must say what the page shows, in the order it shows it.
import { cleanup } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import {
  choiceOptions,
  controlId,
  fieldOrder,
  fill,
  labelOf,
  orderedErrors,
  targetId,
} from '../../../../src/intake/island/form.ts';
import { renderForm, stringsFor, type Kind } from './support.tsx';

afterEach(cleanup);

const kinds: Kind[] = ['help', 'missing'];
// Fields the form carries for the server, never shown as questions.
const hidden = new Set(['kind', 'locale', 'website']);

/** The names of the form's questions, in the order a person meets them on the page. */
function renderedOrder(form: HTMLFormElement): string[] {
  const names = [...form.elements]
    .map((element) => (element as HTMLInputElement).name)
    .filter((name) => name !== '' && !hidden.has(name));
  return [...new Set(names)];
}

describe.each(kinds)('the %s form', (kind) => {
  it('shows its questions in exactly the model\'s order (the order the summary lists errors in)', () => {
    const { container } = renderForm(kind);
    expect(renderedOrder(container.querySelector('form')!)).toEqual(fieldOrder[kind]);
  });

  it('has, for every question, the control a summary link points to', () => {
    renderForm(kind);
    for (const name of fieldOrder[kind]) {
      const target = document.getElementById(targetId(name));
      expect(target, `#${targetId(name)}`).not.toBeNull();
      expect((target as HTMLInputElement).name).toBe(name);
    }
  });

  it('offers each choice group exactly the model\'s options, in order, each with its own id and label', () => {
    const { container } = renderForm(kind);
    for (const name of fieldOrder[kind].filter((n) => n in choiceOptions)) {
      const inputs = [...container.querySelectorAll<HTMLInputElement>(`input[name="${name}"]`)];
      expect(inputs.map((i) => i.value), name).toEqual(choiceOptions[name]);
      for (const input of inputs) {
        expect(input.id).toBe(controlId(name, input.value));
        expect(container.querySelector(`label[for="${input.id}"]`)?.textContent, input.id).toBeTruthy();
      }
    }
  });

  it('has a Russian label or legend for every question, so no summary line is a bare message', () => {
    const s = stringsFor(kind);
    const unnamed = fieldOrder[kind].filter((name) => labelOf(kind, name, s) === undefined);
    expect(unnamed).toEqual([]);
  });
});

describe('orderedErrors', () => {
  it('puts the form-wide error first, then the fields in the form\'s order, then names the form does not have', () => {
    const errors = { nonsense: 'x', consent: 'c', _form: 'f', message: 'm', for: 'w' };
    expect(orderedErrors('help', errors).map(([name]) => name)).toEqual(['_form', 'for', 'message', 'consent', 'nonsense']);
  });

  it('keeps each message with its field', () => {
    expect(orderedErrors('missing', { circumstances: 'b', person_name: 'a' })).toEqual([['person_name', 'a'], ['circumstances', 'b']]);
  });
});

describe('labelOf', () => {
  it('takes the form\'s own string before the shared one, and a legend before a label', () => {
    const strings = {
      'help.form.x.label': 'own label',
      'form.x.legend': 'shared legend',
      'form.y.label': 'shared label',
      'form.y.legend': 'shared legend of y',
    };
    expect(labelOf('help', 'x', strings)).toBe('own label');
    expect(labelOf('missing', 'x', strings)).toBe('shared legend');
    expect(labelOf('help', 'y', strings)).toBe('shared legend of y');
    expect(labelOf('help', 'z', strings)).toBeUndefined();
  });
});

describe('the strings a page gives its island', () => {
  it('keep their placeholders for the island to fill, and fill() fills them', () => {
    const s = stringsFor('help');
    expect(s['answer.error.retryAfter']).toContain('{{minutes}}');
    expect(fill(s['answer.error.retryAfter']!, { minutes: 10 })).not.toContain('{{');
    expect(fill('{{ n }} of {{n}}, {{unknown}}', { n: 2 })).toBe('2 of 2, {{unknown}}');
  });

  it('hold only this form\'s strings and the shared ones, not the other form\'s or the rest of the site\'s', () => {
    const keys = Object.keys(stringsFor('help'));
    expect(keys).toContain('help.form.message.label');
    expect(keys).toContain('form.submit');
    expect(keys).toContain('errors.field.required');
    expect(keys.filter((k) => k.startsWith('missing.'))).toEqual([]);
    expect(keys).not.toContain('site.name');
  });
});
