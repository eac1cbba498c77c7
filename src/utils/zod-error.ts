import type { z } from 'zod';

/** One readable line per problem: `path: message`, for config, content and UI-string errors. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length ? issue.path.join('.') : '(root)';
      const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
      return `  - ${path}: ${message}`;
    })
    .join('\n');
}
