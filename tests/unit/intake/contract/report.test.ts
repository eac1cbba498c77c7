import { describe, expect, it } from 'vitest';
import {
  choiceWords,
  composeReport,
  fieldLabels,
  helpSections,
  JSON_SEPARATOR,
  languageName,
  missingSections,
  padText,
} from '../../../../src/intake/contract/report.ts';
import {
  fieldNames,
  type Application,
  type HelpApplication,
  type MissingApplication,
} from '../../../../src/intake/contract/validate.ts';

const help: HelpApplication = {
  kind: 'help',
  locale: 'en',
  consent: 'yes',
  contact_safe: 'yes',
  contact_channels: ['whatsapp', 'email'],
  contact_value: '+7 900 000, me@example.org',
  contact_time: 'after 9 pm',
  for: 'other',
  danger_now: 'unsure',
  situation: ['begging', 'child'],
  country: 'Россия',
  people_count: 3,
  message: 'My sister is forced to beg.\nThey took her passport.',
  filled_ms: 61_000,
};

const missing: MissingApplication = {
  kind: 'missing',
  locale: 'ru',
  consent: 'yes',
  contact_safe: 'no',
  person_name: 'Мария Иванова',
  person_age: 26,
  last_seen_date: '2025-03-01',
  last_seen_place: 'Бишкек, автовокзал',
  circumstances: 'Уехала на работу в Турцию.\nСвязь пропала.',
  police_report: 'no',
  applicant_name: 'Айгуль',
  consent_publish: 'yes',
  consent_show_rescued: 'no',
};

const meta = { reference: 'K7M2-PQ4X', receivedAt: '2026-11-25T21:00:00.000Z', sealed: false, photoCount: 2 };

/** The readable report as its sections: each heading (a line not indented) with the labels under it. */
function sectionsOf(report: string): Map<string, string[]> {
  const readable = report.split(JSON_SEPARATOR)[0] ?? '';
  const sections = new Map<string, string[]>();
  // Sections are separated by a blank line; the first block is the header (reference, kind, …).
  for (const block of readable.trim().split('\n\n').slice(1)) {
    const [heading = '', ...lines] = block.split('\n');
    // A label is indented once; what the person wrote over several lines, twice.
    const labels = lines.filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim().replace(/:.*$/, ''));
    sections.set(heading, labels);
  }
  return sections;
}

function jsonOf(report: string): unknown {
  const parts = report.split(`\n${JSON_SEPARATOR}\n`);
  expect(parts).toHaveLength(2);
  return JSON.parse(parts[1] ?? '');
}

describe('composeReport', () => {
  it.each([
    ['help', help],
    ['missing', missing],
  ] as [string, Application][])('labels every %s field in Russian', (kind, application) => {
    const report = composeReport(application, meta);
    for (const field of fieldNames[application.kind]) {
      if (field === 'website') continue;
      expect(report, `${kind}.${field}`).toContain(fieldLabels[field]);
    }
    // No field name leaks into the readable part as a label.
    const readable = report.split(JSON_SEPARATOR)[0] ?? '';
    expect(readable).not.toMatch(/contact_safe|person_name|danger_now/);
  });

  it.each([
    ['help', help, helpSections],
    ['missing', missing, missingSections],
  ] as const)('puts each %s field once, under the heading of what it is about', (_, application, layout) => {
    const sections = sectionsOf(composeReport(application, meta));
    expect([...sections.keys()]).toEqual(layout.map(([title]) => title));
    const labels = [...sections.values()].flat();
    const fields = fieldNames[application.kind].filter((f) => f !== 'website' && f !== 'kind' && f !== 'locale');
    expect(labels.sort()).toEqual(fields.map((f) => fieldLabels[f]).sort());
  });

  it('names who wrote under «Заявитель», never under «Что случилось»', () => {
    const forHelp = sectionsOf(composeReport({ ...help, name: 'Айгуль' }, meta));
    expect(forHelp.get('Заявитель')).toEqual([fieldLabels.name, fieldLabels.for]);
    expect(forHelp.get('Что случилось')).toEqual([fieldLabels.danger_now, fieldLabels.situation, fieldLabels.people_count, fieldLabels.message]);
    expect(forHelp.get('Где')).toEqual([fieldLabels.country, fieldLabels.place]);
    expect(sectionsOf(composeReport(missing, meta)).get('Заявитель')).toEqual([fieldLabels.applicant_name, fieldLabels.applicant_relation]);
    expect(composeReport({ ...help, name: 'Айгуль' }, meta)).toContain('Заявитель\n    Имя заявителя: Айгуль\n    Для кого помощь: для другого человека\n\n');
  });

  it('says choices in Russian words and names the language in Russian', () => {
    const report = composeReport(help, meta);
    expect(report).toContain('Язык, на котором написана заявка: английский (en)');
    expect(report).toContain('Безопасно ли связываться: да');
    expect(report).toContain('Способы связи: WhatsApp, электронная почта');
    expect(report).toContain('Для кого помощь: для другого человека');
    expect(report).toContain('Опасность прямо сейчас: не уверен(а)');
    expect(report).toContain('Ситуация: принуждение к попрошайничеству, эксплуатация ребёнка');
    expect(report).toContain('Номер заявки: K7M2-PQ4X\nТип заявки: просьба о помощи');
    expect(report).toContain('Фотографии: 2 (отдельными вложениями)');
    expect(report).toContain('Время заполнения формы: 61 с');
    expect(report).toContain('Имя заявителя: —');
  });

  it('has Russian words for every choice value', () => {
    for (const words of Object.values(choiceWords)) {
      for (const word of Object.values(words ?? {})) expect(word).toMatch(/[а-яё]|SMS|WhatsApp|Telegram|Signal|Viber/i);
    }
    expect(composeReport(missing, meta)).toContain('Согласие показывать фото освобождённым людям: нет');
    expect(languageName('ru')).toBe('русский (ru)');
    expect(languageName('not a code')).toBe('not a code');
  });

  it('indents what the person wrote, so it can not pass for a label or the JSON', () => {
    const forged = { ...help, message: `ok\n${JSON_SEPARATOR}\n{"reference":"FAKE"}\nБезопасно ли связываться: нет` };
    const report = composeReport(forged, meta);
    expect(report).toContain('    Сообщение:\n        ok\n        ────');
    expect(report.split('\n').filter((line) => line.startsWith('Безопасно'))).toEqual([]);
    expect(jsonOf(report)).toMatchObject({ reference: 'K7M2-PQ4X' });
  });

  it.each([help, missing] as Application[])('ends with the application as JSON that round-trips', (application) => {
    expect(jsonOf(composeReport(application, meta))).toEqual({ ...meta, application });
  });
});

describe('padText', () => {
  const bytes = (text: string) => new TextEncoder().encode(text).byteLength;

  it.each([0, 1, 100, 4000, 4095, 4096, 4097, 10_000])('pads %i characters to a multiple of 4096 bytes', (length) => {
    const text = 'x'.repeat(length);
    const padded = padText(text);
    expect(bytes(padded) % 4096).toBe(0);
    expect(padded.startsWith(text)).toBe(true);
    expect(padded).toContain('ЗАПОЛНИТЕЛЬ: не часть заявки');
    expect(bytes(padded) - bytes(text)).toBeLessThan(4096 + 200);
  });

  it('counts bytes, not characters, for Cyrillic', () => {
    const text = 'Помогите '.repeat(300);
    expect(bytes(padText(text)) % 4096).toBe(0);
    expect(bytes(padText(text, 512)) % 512).toBe(0);
  });

  it('gives texts in the same bucket the same size', () => {
    expect(bytes(padText(composeReport(help, meta)))).toBe(bytes(padText(composeReport(missing, meta))));
  });
});
