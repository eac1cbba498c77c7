/** The questions of the help request, in small groups; only "who", the message and the safety question are required. */
import { PEOPLE_COUNT_MAX } from '../../contract/fields.ts';
import { ChoiceGroup, Group, TextField } from './Field.tsx';
import { useForm } from '../context.ts';

const ns = 'help.form';

export function HelpFields() {
  const { s } = useForm();
  return (
    <>
      <ChoiceGroup name="for" ns={ns} type="radio" required />
      <ChoiceGroup name="danger_now" ns={ns} type="radio" optionNs="form.answer" />
      <ChoiceGroup name="situation" ns={ns} type="checkbox" hint={s['form.chooseAll']}>
        <TextField name="people_count" ns={ns} inputMode="numeric" maxLength={String(PEOPLE_COUNT_MAX).length} />
      </ChoiceGroup>
      <Group legend={s[`${ns}.where.legend`] ?? ''}>
        <TextField name="country" ns={ns} />
        <TextField name="place" ns={ns} />
      </Group>
      <Group legend={s[`${ns}.story.legend`] ?? ''}>
        <TextField name="message" ns={ns} rows={6} required />
        <TextField name="name" ns={ns} />
      </Group>
    </>
  );
}
