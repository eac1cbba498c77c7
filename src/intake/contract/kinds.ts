/** The two kinds of application the endpoint accepts: a request for help and a missing person. */
export const kinds = ['help', 'missing'] as const;

export type Kind = (typeof kinds)[number];

/** True for one of {@link kinds} (a field value, a log value: anything). */
export function isKind(value: unknown): value is Kind {
  return (kinds as readonly unknown[]).includes(value);
}
