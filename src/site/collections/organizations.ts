import { getCollection, type CollectionEntry } from 'astro:content';
import { helpKinds, type HelpKind } from './schemas.ts';

export type Organization = CollectionEntry<'organizations'>;

/** Every organisation of the directory, in the order the referral list gives. */
export async function getOrganizations(): Promise<Organization[]> {
  return (await getCollection('organizations')).sort((a, b) => a.data.order - b.data.order);
}

export function ofKind(organizations: Organization[], kind: HelpKind): Organization[] {
  return organizations.filter((o) => o.data.kinds.includes(kind));
}

/** The kinds of help at least one organisation gives, in `helpKinds` order, with how many give it. */
export function kindCounts(organizations: Organization[]): { kind: HelpKind; count: number }[] {
  return helpKinds
    .map((kind) => ({ kind, count: ofKind(organizations, kind).length }))
    .filter(({ count }) => count > 0);
}
