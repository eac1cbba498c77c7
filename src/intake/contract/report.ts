/**
 * The text staff read once they decrypt an application in GnuPG or Thunderbird: every field
 * under a Russian label (the staff's language), choices in Russian words, then the same data
 * as JSON for tools. Plain code without Node APIs: the island composes it in the browser before
 * it seals the application, and the server composes it for a form sent without JavaScript.
 */
import type { Application, HelpApplication, MissingApplication } from './validate.ts';
import type { contactChannels, helpFor, safetyAnswers, situations, yesNo } from './fields.ts';
import type { kinds } from './kinds.ts';

/** What the pipeline knows about an application beyond what the person typed. */
export interface ReportMeta {
  reference: string;
  /** ISO time the server (or the device) received it. */
  receivedAt: string;
  /** True when the browser encrypted it before sending. */
  sealed: boolean;
  /** Photos sent as separate encrypted attachments. */
  photoCount: number;
}

type FieldName = keyof HelpApplication | keyof MissingApplication;

/** The Russian label of every field of both kinds. */
export const fieldLabels: Record<FieldName, string> = {
  kind: 'Тип заявки',
  locale: 'Язык, на котором написана заявка',
  consent: 'Согласие на обработку данных',
  contact_safe: 'Безопасно ли связываться',
  contact_channels: 'Способы связи',
  contact_value: 'Контакт (номер, адрес, имя пользователя)',
  contact_time: 'Когда удобно связаться',
  reply_language: 'Язык для ответа',
  website: 'Поле-ловушка для ботов',
  filled_ms: 'Время заполнения формы',
  for: 'Для кого помощь',
  danger_now: 'Опасность прямо сейчас',
  situation: 'Ситуация',
  country: 'Страна',
  place: 'Место (город, адрес)',
  people_count: 'Сколько людей в такой ситуации',
  name: 'Имя заявителя',
  message: 'Сообщение',
  person_name: 'Имя и фамилия пропавшего',
  person_other_names: 'Другие имена и фамилии',
  person_birth_date: 'Дата рождения',
  person_age: 'Возраст',
  person_citizenship: 'Гражданство',
  person_description: 'Приметы, описание',
  person_phone: 'Телефон пропавшего',
  person_accounts: 'Аккаунты в соцсетях и мессенджерах',
  last_seen_date: 'Когда видели в последний раз',
  last_seen_place: 'Где видели в последний раз',
  circumstances: 'Обстоятельства исчезновения',
  police_report: 'Заявление в полицию подано',
  police_case: 'Номер заявления или дела',
  applicant_name: 'Имя заявителя',
  applicant_relation: 'Кем заявитель приходится пропавшему',
  consent_publish: 'Согласие на публикацию объявления',
  consent_show_rescued: 'Согласие показывать фото освобождённым людям',
};

type Words<T extends readonly string[]> = Readonly<Record<T[number], string>>;

const yesNoWords = { yes: 'да', no: 'нет' } as const satisfies Words<typeof yesNo>;
const safetyWords = { ...yesNoWords, unsure: 'не уверен(а)' } as const satisfies Words<typeof safetyAnswers>;

/** Russian words for every choice value, by field. */
export const choiceWords: Partial<Record<FieldName, Readonly<Record<string, string>>>> = {
  kind: { help: 'просьба о помощи', missing: 'поиск пропавшего человека' } satisfies Words<typeof kinds>,
  consent: { yes: 'да' },
  contact_safe: safetyWords,
  danger_now: safetyWords,
  contact_channels: {
    call: 'звонок',
    sms: 'SMS',
    whatsapp: 'WhatsApp',
    telegram: 'Telegram',
    signal: 'Signal',
    viber: 'Viber',
    email: 'электронная почта',
  } satisfies Words<typeof contactChannels>,
  for: { self: 'для себя', other: 'для другого человека' } satisfies Words<typeof helpFor>,
  situation: {
    labour: 'трудовая эксплуатация',
    sexual: 'сексуальная эксплуатация',
    begging: 'принуждение к попрошайничеству',
    child: 'эксплуатация ребёнка',
    domestic: 'домашнее рабство',
    documents_taken: 'отобрали документы',
    other: 'другое',
  } satisfies Words<typeof situations>,
  police_report: yesNoWords,
  consent_publish: yesNoWords,
  consent_show_rescued: yesNoWords,
};

/**
 * Sections of the report, in the order staff need them: safety and contact first. Each field sits
 * under the heading that names what it is about (who wrote is not "what happened").
 */
export const helpSections: [string, (keyof HelpApplication)[]][] = [
  ['Связь', ['contact_safe', 'contact_channels', 'contact_value', 'contact_time', 'reply_language']],
  ['Что случилось', ['danger_now', 'situation', 'people_count', 'message']],
  ['Где', ['country', 'place']],
  ['Заявитель', ['name', 'for']],
  ['Служебное', ['consent', 'filled_ms']],
];

export const missingSections: [string, (keyof MissingApplication)[]][] = [
  ['Связь', ['contact_safe', 'contact_channels', 'contact_value', 'contact_time', 'reply_language']],
  [
    'Пропавший человек',
    ['person_name', 'person_other_names', 'person_birth_date', 'person_age', 'person_citizenship', 'person_description', 'person_phone', 'person_accounts'],
  ],
  ['Исчезновение', ['last_seen_date', 'last_seen_place', 'circumstances', 'police_report', 'police_case']],
  ['Заявитель', ['applicant_name', 'applicant_relation']],
  ['Согласия', ['consent', 'consent_publish', 'consent_show_rescued']],
  ['Служебное', ['filled_ms']],
];

const NOT_GIVEN = '—';
const INDENT = '    ';
/** The line between the readable report and its JSON. */
export const JSON_SEPARATOR = '──────────────────────────────────────── JSON';

/** A language named in Russian with its code, e.g. «английский (en)». */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames(['ru'], { type: 'language' }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

function word(field: FieldName, value: string): string {
  return choiceWords[field]?.[value] ?? value;
}

function valueText(field: FieldName, value: unknown): string {
  if (value === undefined) return NOT_GIVEN;
  if (Array.isArray(value)) return value.length === 0 ? NOT_GIVEN : value.map((v) => word(field, String(v))).join(', ');
  if (field === 'filled_ms' && typeof value === 'number') return `${Math.round(value / 1000)} с`;
  return word(field, String(value));
}

// Every line the person wrote is indented under its label, so no text of theirs can pass for
// a label, a section or the JSON below.
function fieldLine(field: FieldName, value: unknown): string {
  const text = valueText(field, value);
  if (!text.includes('\n')) return `${INDENT}${fieldLabels[field]}: ${text}`;
  return [`${INDENT}${fieldLabels[field]}:`, ...text.split('\n').map((line) => `${INDENT}${INDENT}${line}`)].join('\n');
}

function sections(application: Application): string[] {
  const values: Partial<Record<FieldName, unknown>> = application;
  const layout: [string, FieldName[]][] = application.kind === 'help' ? helpSections : missingSections;
  return layout.map(([title, fields]) => [title, ...fields.map((f) => fieldLine(f, values[f]))].join('\n'));
}

/** The readable report plus the application as pretty JSON (with the reference and meta). */
export function composeReport(application: Application, meta: ReportMeta): string {
  const header = [
    `Номер заявки: ${meta.reference}`,
    `${fieldLabels.kind}: ${word('kind', application.kind)}`,
    `Получена: ${meta.receivedAt}`,
    `${fieldLabels.locale}: ${languageName(application.locale)}`,
    `Зашифрована на устройстве заявителя: ${meta.sealed ? 'да' : 'нет'}`,
    `Фотографии: ${meta.photoCount === 0 ? 'нет' : `${meta.photoCount} (отдельными вложениями)`}`,
  ].join('\n');
  const json = JSON.stringify({ ...meta, application }, null, 2);
  return [header, ...sections(application), `${JSON_SEPARATOR}\n${json}`].join('\n\n') + '\n';
}

const PADDING_MARK = '\n\n~~~~ ЗАПОЛНИТЕЛЬ: не часть заявки, только выравнивает размер письма ~~~~\n';
const PADDING_LINE = 64;

/**
 * Pads `text` with a marked block of filler so its UTF-8 length is a multiple of `bucket`:
 * the ciphertext's size then tells an observer only which bucket the application fell in.
 */
export function padText(text: string, bucket = 4096): string {
  const encoder = new TextEncoder();
  const marked = text + PADDING_MARK;
  const missing = (bucket - (encoder.encode(marked).byteLength % bucket)) % bucket;
  // ASCII filler, one byte per character, in short lines that mail clients show tidily.
  const line = `${'.'.repeat(PADDING_LINE - 1)}\n`;
  return marked + line.repeat(Math.floor(missing / PADDING_LINE)) + '.'.repeat(missing % PADDING_LINE);
}
