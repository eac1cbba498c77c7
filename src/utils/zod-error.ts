import type { z } from 'zod';

/**
 * The one helper turning zod failures into readable lines: one line per path (`PORT: …`,
 * `site.name: …`), every distinct message for it joined, and never the input value itself
 * (configuration values can be secrets).
 */
export function issueLines(error: z.ZodError, root = '(root)'): string[] {
  const byPath = new Map<string, string[]>();
  for (const issue of error.issues) {
    const path = issue.path.length ? issue.path.join('.') : root;
    const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
    byPath.set(path, [...(byPath.get(path) ?? []), message]);
  }
  return [...byPath].map(([path, messages]) => `${path}: ${[...new Set(messages)].join('; ')}`);
}

/** The same lines as a list, for an error message. */
export function formatZodError(error: z.ZodError): string {
  return issueLines(error).map((line) => `  - ${line}`).join('\n');
}
