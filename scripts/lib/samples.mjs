// Complete, valid applications as form fields (checkbox groups as arrays), with nothing anyone
// could take for a real person's: the tests, `npm run load` and `npm run attack` post these.

/** A request for help (Cyrillic included). */
export const helpSample = Object.freeze({
  kind: 'help',
  locale: 'ru',
  consent: 'yes',
  for: 'self',
  situation: ['labour', 'documents_taken'],
  danger_now: 'no',
  country: 'Россия',
  place: 'Кирпичный завод у трассы',
  message: 'Меня держат на заводе, паспорт забрали.',
  contact_safe: 'yes',
  contact_channels: ['sms'],
  contact_value: '+79990000000',
  contact_time: 'вечером',
  reply_language: 'ru',
  website: '',
});

/** A request to search for a missing person (photos are added as files). */
export const missingSample = Object.freeze({
  kind: 'missing',
  locale: 'ru',
  consent: 'yes',
  person_name: 'Иван Петров',
  person_age: '34',
  last_seen_place: 'Махачкала',
  last_seen_date: '2026-03-01',
  circumstances: 'Уехал на заработки по объявлению, перестал отвечать.',
  police_report: 'no',
  applicant_name: 'Мария Петрова',
  applicant_relation: 'сестра',
  consent_publish: 'yes',
  consent_show_rescued: 'no',
  contact_safe: 'yes',
  contact_channels: ['call'],
  contact_value: '+79991112233',
  website: '',
});
