import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutToLimit, formValues } from '../../../../src/intake/server/echo.ts';
import { fieldNames } from '../../../../src/intake/contract/validate.ts';
import { textLimits } from '../../../../src/intake/contract/fields.ts';

const fields = (entries: Record<string, string | string[]>) => new Map(Object.entries(entries).map(([k, v]) => [k, [v].flat()]));

describe('what a refused form gets back', () => {
  it('keeps only the form\'s own visible fields, each value within its limit', () => {
    const kept = formValues('help', fields({
      kind: 'help',
      locale: 'ru',
      website: 'http://spam.example',
      filled_ms: '9',
      unknown: 'x'.repeat(100),
      message: 'м'.repeat(textLimits.message + 50),
      name: 'Марина',
      people_count: '1'.repeat(1000),
      for: 'self',
      danger_now: 'maybe',
      contact_channels: ['sms', 'sms', 'pigeon', 'email'],
      situation: ['labour'],
    }));
    expect([...kept.keys()].sort()).toEqual(['contact_channels', 'for', 'message', 'name', 'people_count', 'situation']);
    expect(kept.get('message')![0]).toHaveLength(textLimits.message);
    expect(kept.get('people_count')![0]!.length).toBeLessThanOrEqual(32);
    expect(kept.get('contact_channels')).toEqual(['sms', 'email']);
    // A second value of a single field is not put back.
    expect(formValues('help', fields({ name: ['a', 'b'] })).get('name')).toEqual(['a']);
  });

  it('never splits a character, and counts a textarea\'s CRLF as one', () => {
    expect(cutToLimit('ab😀', 3, false)).toBe('ab');
    expect(cutToLimit('a\r\nb\r\nc', 5, true)).toBe('a\nb\nc');
    expect(cutToLimit('a\r\nb', 2, false)).toBe('a\r');
  });

  it('is never larger than the form with every field at its limit, whatever was sent', () => {
    const limitOf = (name: string) => (textLimits as Record<string, number>)[name] ?? 32;
    fc.assert(
      fc.property(fc.constantFrom('help' as const, 'missing' as const), fc.dictionary(fc.string(), fc.array(fc.string({ maxLength: 300 }), { maxLength: 4 })), (kind, sent) => {
        const kept = formValues(kind, new Map(Object.entries(sent)));
        for (const [name, values] of kept) {
          expect((fieldNames[kind] as readonly string[]).includes(name)).toBe(true);
          for (const value of values) expect(value.length).toBeLessThanOrEqual(limitOf(name));
        }
      }),
    );
  });
});
