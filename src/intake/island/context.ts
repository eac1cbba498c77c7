import { createContext, useContext } from 'react';
import type { Kind } from '../contract/kinds.ts';
import type { FieldMessages, FieldValues, Strings } from './form.ts';

/** What every field of a form needs, given once by the form instead of through every prop list. */
export interface FormContextValue {
  kind: Kind;
  s: Strings;
  /** What was typed before (the answer page puts it back); fields stay uncontrolled. */
  values: FieldValues;
  errors: FieldMessages;
  /** True once the island runs in the browser: only then may JS-only behaviour change the page. */
  enhanced: boolean;
}

export const FormContext = createContext<FormContextValue | null>(null);

export function useForm(): FormContextValue {
  const value = useContext(FormContext);
  if (value === null) throw new Error('A form field was rendered outside its form');
  return value;
}
