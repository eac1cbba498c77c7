/**
 * The form's building blocks. Inputs are uncontrolled (the DOM keeps what was typed, before and
 * after hydration, through errors and retries); each has its label, hint and error tied to it
 * with `for` and `aria-describedby`, as GOV.UK Frontend does.
 */
import type { ChangeEvent, ReactNode } from 'react';
import { textLimits } from '../../contract/fields.ts';
import { useForm } from '../context.ts';
import { choiceOptions, controlId, errorId, hintId } from '../form.ts';

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  return ids.filter(Boolean).join(' ') || undefined;
}

function Optional({ show }: { show: boolean }) {
  const { s } = useForm();
  return show ? <span className="optional"> {s['form.optional']}</span> : null;
}

/** The error under a label or legend; "Error:" is read out, not shown (the colour and bar show it). */
export function ErrorText({ name }: { name: string }) {
  const { s, errors } = useForm();
  const error = errors[name];
  if (error === undefined) return null;
  return (
    <p className="field-error" id={errorId(name)}>
      <span className="visually-hidden">{s['form.errorPrefix']} </span>
      {error}
    </p>
  );
}

interface TextFieldProps {
  name: keyof typeof textLimits | 'people_count' | 'person_age' | 'person_birth_date' | 'last_seen_date';
  /** Where its strings live: `<ns>.<name>.label` and, if given, `<ns>.<name>.hint`. */
  ns: string;
  required?: boolean;
  /** Show "(optional)"; off for fields that are required only in some cases. */
  optional?: boolean;
  /** A textarea of this many rows instead of a one-line input. */
  rows?: number;
  type?: 'text' | 'date';
  inputMode?: 'numeric' | 'tel' | 'email';
  maxLength?: number;
  min?: string;
}

export function TextField({ name, ns, required = false, optional = !required, rows, type = 'text', inputMode, maxLength, min }: TextFieldProps) {
  const { s, values, errors } = useForm();
  const hint = s[`${ns}.${name}.hint`];
  const error = errors[name];
  const common = {
    id: controlId(name),
    name,
    required,
    // Nothing typed here may be offered again to whoever uses this phone next.
    autoComplete: 'off',
    defaultValue: values[name]?.[0] ?? '',
    maxLength: maxLength ?? (name in textLimits ? textLimits[name as keyof typeof textLimits] : undefined),
    'aria-invalid': error === undefined ? undefined : true,
    'aria-describedby': describedBy(hint !== undefined && hintId(name), error !== undefined && errorId(name)),
  };
  return (
    <div className={error === undefined ? 'field' : 'field field--error'}>
      <label htmlFor={common.id}>
        {s[`${ns}.${name}.label`]}
        <Optional show={optional} />
      </label>
      {hint !== undefined && <p className="hint" id={hintId(name)}>{hint}</p>}
      <ErrorText name={name} />
      {rows === undefined ? (
        <input type={type} inputMode={inputMode} min={min} dir={type === 'text' ? 'auto' : undefined} {...common} />
      ) : (
        <textarea rows={rows} dir="auto" {...common} />
      )}
    </div>
  );
}

interface ChoiceGroupProps {
  name: string;
  ns: string;
  type: 'radio' | 'checkbox';
  required?: boolean;
  optional?: boolean;
  /** Where option labels live, `<optionNs>.<value>`; default `<ns>.<name>`. */
  optionNs?: string;
  /** A hint of its own, when the group has no `<ns>.<name>.hint` string. */
  hint?: string | undefined;
  onChange?: (event: ChangeEvent<HTMLInputElement>) => void;
  children?: ReactNode;
}

/** A fieldset of radios or checkboxes: the legend asks the question, each option is a big target. */
export function ChoiceGroup({ name, ns, type, required = false, optional = !required, optionNs, hint, onChange, children }: ChoiceGroupProps) {
  const { s, values, errors } = useForm();
  const hintText = hint ?? s[`${ns}.${name}.hint`];
  const error = errors[name];
  const chosen = values[name] ?? [];
  return (
    <fieldset
      className={error === undefined ? 'field' : 'field field--error'}
      aria-describedby={describedBy(hintText !== undefined && hintId(name), error !== undefined && errorId(name))}
    >
      <legend>
        {s[`${ns}.${name}.legend`]}
        <Optional show={optional} />
      </legend>
      {hintText !== undefined && <p className="hint" id={hintId(name)}>{hintText}</p>}
      <ErrorText name={name} />
      <div className="choices">
        {(choiceOptions[name] ?? []).map((option) => (
          <div className="choice" key={option}>
            <input
              type={type}
              id={controlId(name, option)}
              name={name}
              value={option}
              required={type === 'radio' && required}
              defaultChecked={chosen.includes(option)}
              onChange={onChange}
            />
            <label htmlFor={controlId(name, option)}>{s[`${optionNs ?? `${ns}.${name}`}.${option}`]}</label>
          </div>
        ))}
      </div>
      {children}
    </fieldset>
  );
}

/** A titled group of fields. */
export function Group({ legend, children }: { legend: string; children: ReactNode }) {
  return (
    <fieldset className="group">
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}
