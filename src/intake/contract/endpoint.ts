/**
 * Where the intake is reached, shared by the forms, the island and the server around Astro:
 * plain constants, so the island's main bundle and the server's start-up take nothing else.
 */

/** The one endpoint (src/pages/api/applications.ts): the forms' `action`, the island's fetch. */
export const ENDPOINT = '/api/applications';

/**
 * The page a plain form post is answered with, in the person's language (`/ru/answer/`): the
 * endpoint renders it in place, and it is never stored (server/http/headers.ts).
 */
export const ANSWER_PAGE = 'answer';

/**
 * How long the server gives one request, body and answer (scripts/serve.mjs `requestTimeout`):
 * after that no answer can come, and the island stops waiting for one.
 */
export const REQUEST_TIMEOUT_MS = 120_000;
