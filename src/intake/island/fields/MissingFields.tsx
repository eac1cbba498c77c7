/** The questions about a missing person: who, how to recognise them, last seen, police, photos, and who asks. */
import { EARLIEST_DATE, PERSON_AGE_MAX } from '../../contract/fields.ts';
import { ChoiceGroup, Group, TextField } from './Field.tsx';
import { PhotoField } from './PhotoField.tsx';
import { useForm } from '../context.ts';

const ns = 'missing.form';

export function MissingFields() {
  const { s } = useForm();
  const legend = (group: string) => s[`${ns}.${group}.legend`] ?? '';
  return (
    <>
      <Group legend={legend('person')}>
        <TextField name="person_name" ns={ns} required />
        <TextField name="person_other_names" ns={ns} />
        <TextField name="person_birth_date" ns={ns} type="date" min={EARLIEST_DATE} />
        <TextField name="person_age" ns={ns} inputMode="numeric" maxLength={String(PERSON_AGE_MAX).length} />
        <TextField name="person_citizenship" ns={ns} />
      </Group>
      <Group legend={legend('looks')}>
        <TextField name="person_description" ns={ns} rows={4} />
        <TextField name="person_phone" ns={ns} inputMode="tel" />
        <TextField name="person_accounts" ns={ns} rows={3} />
      </Group>
      <Group legend={legend('lastSeen')}>
        <TextField name="last_seen_date" ns={ns} type="date" min={EARLIEST_DATE} />
        <TextField name="last_seen_place" ns={ns} rows={2} required />
        <TextField name="circumstances" ns={ns} rows={6} required />
      </Group>
      <ChoiceGroup name="police_report" ns={ns} type="radio" optionNs="form.answer">
        <TextField name="police_case" ns={ns} />
      </ChoiceGroup>
      <PhotoField />
      <Group legend={legend('applicant')}>
        <TextField name="applicant_name" ns={ns} required />
        <TextField name="applicant_relation" ns={ns} />
      </Group>
    </>
  );
}

/** The two consents that decide what we may do with the report: explicit answers, nothing chosen for the person. */
export function MissingConsents() {
  return (
    <>
      <ChoiceGroup name="consent_publish" ns={ns} type="radio" required optionNs="form.answer" />
      <ChoiceGroup name="consent_show_rescued" ns={ns} type="radio" required optionNs="form.answer" />
    </>
  );
}
