/**
 * Where the intake is reached, shared by the forms, the island and the server around Astro:
 * plain constants, so the island's main bundle and the server's start-up take nothing else.
 */

/** The one endpoint (src/pages/api/applications.ts): the forms' `action`, the island's fetch. */
export const ENDPOINT = '/api/applications';

/**
 * How long the server gives one request, body and answer (scripts/serve.mjs `requestTimeout`):
 * after that no answer can come, and the island stops waiting for one.
 */
export const REQUEST_TIMEOUT_MS = 120_000;
