/**
 * The UI strings a form island needs, taken from the page's `t` at build or request time: only
 * these go into the page (and from there to the island), never every locale's JSON.
 */
import type { Kind } from '../contract/kinds.ts';
import { uiKeys, type Translate } from '../../i18n/index.ts';
import type { Strings } from './form.ts';

export function formStrings(t: Translate, kind: Kind): Strings {
  const prefixes = ['form.', `${kind}.form.`, 'errors.field.', 'answer.received.', 'answer.error.'];
  // Placeholders such as {{minutes}} stay in: the island fills them when it knows the value.
  return Object.fromEntries(
    uiKeys.filter((key) => prefixes.some((p) => key.startsWith(p))).map((key) => [key, t(key, { skipInterpolation: true })]),
  );
}
