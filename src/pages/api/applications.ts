// The one endpoint. Thin: the pipeline (src/intake/server/) does the work; this file maps its
// outcome to JSON for the island or to the localized HTML answer page for a plain form post.
// GET gives the staff's public keys, which the island encrypts to before anything is sent.
// Every JSON answer is declared in src/intake/contract/answers.ts.
import type { APIRoute } from 'astro';
import { clientAddress } from '../../intake/server/http/address.ts';
import { answerHeaders, htmlAnswer, jsonAnswer, jsonError } from '../../intake/server/answer.ts';
import { IntakeError } from '../../intake/server/errors.ts';
import { submitApplication } from '../../intake/server/pipeline.ts';
import { getRuntime } from '../../intake/server/runtime.ts';
import type { KeysAnswer } from '../../intake/contract/answers.ts';
import { ANSWER_PAGE } from '../../intake/contract/endpoint.ts';
import { issueReference } from '../../intake/server/ticket.ts';
import { useTranslations } from '../../i18n/index.ts';
import { isLocale } from '../../i18n/locales.ts';
import { pickLocale } from '../../i18n/negotiate.ts';

export const prerender = false;

const wantsJson = (request: Request) => (request.headers.get('accept') ?? '').includes('application/json');

export const POST: APIRoute = async (context) => {
  const { request } = context;
  const runtime = await getRuntime();
  const address = clientAddress(request.headers.get('x-forwarded-for'), context.clientAddress, runtime.config.trustProxy);
  const outcome = await submitApplication(request, address, runtime.deps);
  // Errors before the body was read have no `locale` field: use the browser's languages.
  const locale = isLocale(outcome.locale) ? outcome.locale : pickLocale(request.headers.get('accept-language'));
  const t = useTranslations(locale);
  const headers = answerHeaders(outcome);
  if (wantsJson(request)) {
    const { status, body } = jsonAnswer(outcome, t);
    return Response.json(body, { status, headers });
  }
  context.locals.answer = htmlAnswer(outcome, t);
  // The middleware chose the locals' language from this path (which has none): the answer page
  // speaks the language the person wrote in.
  context.locals.locale = locale;
  context.locals.t = t;
  // The answer page renders with the site layout; a fresh GET request, since the body is used.
  const response = await context.rewrite(new Request(new URL(`/${locale}/${ANSWER_PAGE}/`, context.url), { headers: request.headers }));
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
};

/**
 * The keys the server holds, as anyone can fetch and compare them with what staff read out
 * (gpg --fingerprint), and a reference issued for one application with its ticket: the island
 * fetches this at every submit, so it is never cached.
 */
export const GET: APIRoute = async () => {
  const { staff, config } = await getRuntime();
  const answer: KeysAnswer = { keys: staff.armored, fingerprints: staff.fingerprints, ...issueReference(config.rateLimitSecret) };
  return Response.json(answer, { headers: { 'Cache-Control': 'no-store' } });
};

export const ALL: APIRoute = ({ request }) => {
  const { status, body } = jsonError(new IntakeError('method_not_allowed'), useTranslations(pickLocale(request.headers.get('accept-language'))));
  return Response.json(body, { status, headers: { Allow: 'GET, POST', 'Cache-Control': 'no-store' } });
};
