import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/**
 * Runs axe with the WCAG 2.2 A/AA rules and fails with a readable list of what it found.
 * Two settings make a run two to three times faster and check the same: axe runs in the page
 * itself (legacy mode: no blank page opened to gather frames' results; our pages have no frames,
 * and a frame from another origin could not load under the CSP), and only the violations get
 * their selectors worked out (`resultTypes`), the part that takes longest on a large form.
 * https://github.com/dequelabs/axe-core-npm/blob/develop/packages/playwright/README.md
 */
export async function expectNoAxeViolations(page: Page, label = page.url()): Promise<void> {
  const results = await new AxeBuilder({ page })
    // Before withTags: `options` replaces the options withTags adds to.
    .options({ resultTypes: ['violations'] })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .setLegacyMode(true)
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n    ')}`,
  );
  expect(summary, `axe violations on ${label}`).toEqual([]);
}
