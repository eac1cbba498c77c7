import { expect } from '@playwright/test';

/**
 * What is wrong with the security headers of one response served over http (none: `[]`):
 * a CSP without inline code or other origins, no referrer, no sniffing, no opener, no camera,
 * microphone or location, no cookie, and no HSTS (it is sent only when the public URL is https).
 */
export function strictHeaderProblems(headers: Headers, label: string): string[] {
  const problems: string[] = [];
  const csp = headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"]) {
    if (!csp.includes(directive)) problems.push(`${label}: CSP lacks ${directive}`);
  }
  if (csp.includes('unsafe-inline')) problems.push(`${label}: CSP allows unsafe-inline`);
  if (/https?:\/\//.test(csp)) problems.push(`${label}: CSP names another origin`);
  const exactly: [string, string][] = [
    ['referrer-policy', 'no-referrer'],
    ['x-content-type-options', 'nosniff'],
    ['cross-origin-opener-policy', 'same-origin'],
  ];
  for (const [name, value] of exactly) {
    if (headers.get(name) !== value) problems.push(`${label}: ${name} is ${headers.get(name)}, not ${value}`);
  }
  const permissions = headers.get('permissions-policy') ?? '';
  for (const feature of ['camera=()', 'microphone=()', 'geolocation=()']) {
    if (!permissions.includes(feature)) problems.push(`${label}: permissions-policy lacks ${feature}`);
  }
  if (headers.get('set-cookie') !== null) problems.push(`${label}: sets a cookie`);
  if (headers.get('strict-transport-security') !== null) problems.push(`${label}: HSTS over http`);
  return problems;
}

export function expectStrictHeaders(headers: Headers, label: string): void {
  expect(strictHeaderProblems(headers, label)).toEqual([]);
}
