import { describe, expect, it } from 'vitest';
import {
  applicationAnswerSchema,
  errorAnswerSchema,
  errorCodes,
  keysAnswerSchema,
  receivedAnswerSchema,
} from '../../../../src/intake/contract/answers.ts';
import { jsonAnswer, jsonError } from '../../../../src/intake/server/answer.ts';
import { IntakeError, RateLimitedError, statusOf, ValidationError } from '../../../../src/intake/server/errors.ts';
import { issueReference } from '../../../../src/intake/server/ticket.ts';
import { useTranslations } from '../../../../src/i18n/index.ts';

const t = useTranslations('en');
const refused = (error: IntakeError) => ({ ok: false, error, kind: 'help', locale: 'en', values: undefined }) as const;

describe('the endpoint answers, as the server builds them and the island reads them', () => {
  it('a received application: 201 and the schema of its kind', () => {
    const { status, body } = jsonAnswer({ ok: true, reference: 'K7M2-PQ4X', kind: 'help', locale: 'en', sealed: true }, t);
    expect(status).toBe(201);
    expect(receivedAnswerSchema.parse(body)).toEqual({ ok: true, reference: 'K7M2-PQ4X', sealed: true });
  });

  it('every refusal: its status, its code, a message, and fields or a wait where they apply', () => {
    for (const code of errorCodes) {
      const { status, body } = jsonError(new IntakeError(code), t);
      expect(status).toBe(statusOf[code]);
      expect(errorAnswerSchema.parse(body)).toMatchObject({ ok: false, error: code, message: expect.any(String) });
    }
    const invalid = jsonAnswer(refused(new ValidationError({ message: 'required' })), t);
    expect(applicationAnswerSchema.parse(invalid.body)).toEqual({
      ok: false,
      error: 'validation',
      message: t('errors.validation'),
      fields: { message: t('errors.field.required') },
    });
    expect(applicationAnswerSchema.parse(jsonAnswer(refused(new RateLimitedError(42)), t).body)).toMatchObject({ error: 'rate_limited', retryAfter: 42 });
  });

  it('the keys, with a reference issued for one application', () => {
    const answer = { keys: '-----BEGIN PGP PUBLIC KEY BLOCK-----', fingerprints: ['AB'], ...issueReference('secret') };
    expect(keysAnswerSchema.parse(answer)).toEqual(answer);
  });

  it('anything else is not an answer of the contract', () => {
    for (const data of [
      undefined,
      'ok',
      {},
      { ok: true, reference: '../x', sealed: true },
      { ok: true, reference: 'K7M2-PQ4X' },
      { ok: false, error: 'nope', message: 'x' },
      { ok: false, error: 'busy' },
      { ok: false, error: 'validation', message: 'x', fields: { message: 1 } },
    ]) {
      expect(applicationAnswerSchema.safeParse(data).success, JSON.stringify(data)).toBe(false);
    }
    expect(keysAnswerSchema.safeParse({ keys: 'k', fingerprints: [], reference: 'K7M2-PQ4X', ticket: 'x'.repeat(65) }).success).toBe(false);
  });
});
