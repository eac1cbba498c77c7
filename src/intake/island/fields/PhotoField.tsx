/**
 * Up to three photos, with the rules said before the button. The button is a label in the page's
 * language (a browser names its own file button in the browser's language, "Choose Files"), a
 * full tap target, and opens the picker with or without JS. Without JS the native input stays
 * beside it, its own button hidden: its "2 files" / "No file chosen" is the only word of what
 * was chosen a page can show then (in the phone's language). With JS the input is kept for the
 * keyboard and screen readers but not shown: the island says in the page's language how many
 * photos are chosen, and previews them from object URLs (the image never leaves the phone before
 * sending); the URLs are revoked as soon as the choice changes or the form goes away.
 */
import { useEffect, useState } from 'react';
import { PHOTO_FIELD } from '../../contract/fields.ts';
import { photoTypes } from '../../contract/image.ts';
import { ErrorText } from './Field.tsx';
import { useForm } from '../context.ts';
import { controlId, errorId, fill, hintId } from '../form.ts';
import { preloadEncryption } from '../submit.ts';

/** Types the server accepts (it checks the bytes too); also the file picker's filter. */
export const PHOTO_TYPES = photoTypes.join(',');

export function PhotoField() {
  const { s, values, errors, enhanced } = useForm();
  const [previews, setPreviews] = useState<string[]>([]);
  useEffect(() => () => previews.forEach((url) => URL.revokeObjectURL(url)), [previews]);

  const error = errors[PHOTO_FIELD];
  // Values come back only on the answer page, and a browser can not be handed files back.
  const chooseAgain = Object.keys(values).length > 0;
  const status = `${hintId(PHOTO_FIELD)}-chosen`;
  const hints = [hintId(PHOTO_FIELD), chooseAgain && `${hintId(PHOTO_FIELD)}-again`, error !== undefined && errorId(PHOTO_FIELD), enhanced && status];
  return (
    <fieldset className={error === undefined ? 'field' : 'field field--error'}>
      <legend>
        {s['missing.form.photos.legend']}
        <span className="optional"> {s['form.optional']}</span>
      </legend>
      <p className="hint" id={hintId(PHOTO_FIELD)}>{s['missing.form.photos.rules']}</p>
      {chooseAgain && <p className="notice" id={`${hintId(PHOTO_FIELD)}-again`}>{s['answer.error.photos']}</p>}
      <ErrorText name={PHOTO_FIELD} />
      <div className="file-pick">
        {/* Before its label: the label shows the input's keyboard focus (`input:focus-visible + label`). */}
        <input
          type="file"
          className={enhanced ? 'file-pick__input visually-hidden' : 'file-pick__input'}
          id={controlId(PHOTO_FIELD)}
          name={PHOTO_FIELD}
          accept={PHOTO_TYPES}
          multiple
          aria-invalid={error === undefined ? undefined : true}
          aria-describedby={hints.filter(Boolean).join(' ')}
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            setPreviews(files.map((f) => URL.createObjectURL(f)));
            if (files.length > 0) preloadEncryption();
          }}
        />
        <label className="button file-pick__button" htmlFor={controlId(PHOTO_FIELD)}>{s['missing.form.photos.label']}</label>
        {enhanced && (
          <p className="file-pick__status" id={status} aria-live="polite">
            {previews.length === 0 ? s['missing.form.photos.none'] : fill(s['missing.form.photos.count'] ?? '', { n: previews.length })}
          </p>
        )}
      </div>
      {previews.length > 0 && (
        <ul className="previews">
          {previews.map((url, i) => (
            <li key={url}>
              <img src={url} alt={fill(s['missing.form.photos.chosen'] ?? '', { n: i + 1 })} />
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
