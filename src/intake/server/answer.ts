/**
 * What the applicant is told, as JSON for the island and as data for the HTML answer page.
 * Messages are localized here, with the same keys the forms use, so both paths say the same.
 */
import type { IntakeError, ErrorCode } from './errors.ts';
import type { ApplicationAnswer, ErrorAnswer } from '../contract/answers.ts';
import type { Outcome } from './pipeline.ts';
import type { Kind } from '../contract/kinds.ts';
import type { Translate } from '../../i18n/index.ts';
import { contacts } from '../../site/contacts.ts';

type T = Translate;

// 429 and 503 must never be a dead end: their messages name the numbers to call. Each number is
// a left-to-right isolate (U+2066…U+2069), so in an Arabic sentence its digit groups stay in order.
const ltr = (text: string) => `\u2066${text}\u2069`;
const numbers = { hotline: ltr(contacts.hotline.display), police: ltr(contacts.police.display) };
const messageOf = (code: ErrorCode, t: T) => t(`errors.${code}`, numbers);

/** An application received: kept, or taken for a bot's and dropped (which must look the same). */
const RECEIVED = 201;

export interface HtmlAnswer {
  status: number;
  kind: Kind | undefined;
  reference?: string;
  /** The browser encrypted the application before sending it. */
  sealed?: boolean;
  error?: ErrorCode;
  message?: string;
  /** Localized message per field name. */
  fields?: Record<string, string>;
  /** What was typed, put back into the form (files can not be). */
  values?: Record<string, string[]>;
  retryAfter?: number;
}

function retryAfterOf(error: IntakeError): number | undefined {
  return 'retryAfter' in error && typeof error.retryAfter === 'number' ? error.retryAfter : undefined;
}

function fieldMessages(error: IntakeError, t: T): Record<string, string> | undefined {
  if (!('fields' in error)) return undefined;
  const fields = error.fields as Record<string, string>;
  return Object.fromEntries(Object.entries(fields).map(([name, key]) => [name, t(`errors.field.${key}`)]));
}

/** Headers every refusal carries: Retry-After where waiting helps. */
export function answerHeaders(outcome: Outcome): Record<string, string> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (!outcome.ok) {
    const retry = retryAfterOf(outcome.error);
    if (retry !== undefined) headers['Retry-After'] = String(retry);
  }
  return headers;
}

/** A refusal as JSON, in the contract's shape (src/intake/contract/answers.ts). */
export function jsonError(error: IntakeError, t: T): { status: number; body: ErrorAnswer } {
  const body: ErrorAnswer = { ok: false, error: error.code, message: messageOf(error.code, t) };
  const fields = fieldMessages(error, t);
  if (fields) body.fields = fields;
  const retry = retryAfterOf(error);
  if (retry !== undefined) body.retryAfter = retry;
  return { status: error.status, body };
}

/** The JSON body of the contract: `{ ok, reference, sealed }` or `{ ok: false, error, message, fields }`. */
export function jsonAnswer(outcome: Outcome, t: T): { status: number; body: ApplicationAnswer } {
  if (outcome.ok) return { status: RECEIVED, body: { ok: true, reference: outcome.reference, sealed: outcome.sealed } };
  return jsonError(outcome.error, t);
}

/** The data the HTML answer page renders. */
export function htmlAnswer(outcome: Outcome, t: T): HtmlAnswer {
  if (outcome.ok) return { status: RECEIVED, kind: outcome.kind, reference: outcome.reference, sealed: outcome.sealed };
  const { error } = outcome;
  const answer: HtmlAnswer = { status: error.status, kind: outcome.kind, error: error.code, message: messageOf(error.code, t) };
  const fields = fieldMessages(error, t);
  if (fields) answer.fields = fields;
  if (outcome.values) answer.values = Object.fromEntries(outcome.values);
  const retry = retryAfterOf(error);
  if (retry !== undefined) answer.retryAfter = retry;
  return answer;
}
