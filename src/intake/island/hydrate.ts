/**
 * Brings the server-rendered form to life. This is an ordinary module script that Astro bundles
 * into a file, instead of a `client:*` directive: Astro 7 writes its island loader and the
 * directive's trigger as inline `<script>`s (runtime/server/scripts.js), which the site's CSP
 * (`script-src 'self'`, no 'unsafe-inline') would block. The form works before this runs and
 * if it never does; hydration waits until the browser is idle, like `client:idle`.
 */
import { createElement } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { IntakeForm, type IntakeFormProps } from './IntakeForm.tsx';

function start(root: HTMLElement) {
  const props = JSON.parse(root.dataset['intake'] ?? '{}') as IntakeFormProps;
  hydrateRoot(root, createElement(IntakeForm, props));
}

for (const root of document.querySelectorAll<HTMLElement>('[data-intake]')) {
  if ('requestIdleCallback' in window) requestIdleCallback(() => start(root), { timeout: 2000 });
  else setTimeout(() => start(root), 200);
}
