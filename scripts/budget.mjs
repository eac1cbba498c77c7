// Size budget of every built page: HTML + the CSS it loads, JS it loads (with the static imports
// of each module, not the lazy chunks), and the request count; then what Chromium really
// transfers for every template (below). Exits non-zero over budget.
// Budgets: content pages ≤ 14 KB HTML+CSS gzipped (the first round trip) and no framework JS
// (only the quick-exit script, ≤ 1 KB); form pages ≤ 14 KB HTML+CSS and ≤ 85 KB JS.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';
import { kinds } from '../src/intake/contract/kinds.ts';
import { startServer } from './lib/server.mjs';
import { launchChromium, measureTransfer } from './lib/wire.mjs';

const root = 'dist/client';
if (!existsSync(root) || process.argv.includes('--build')) execSync('npx astro build', { stdio: 'inherit' });

const KB = 1024;
const budgets = {
  content: { htmlCss: 14 * KB, js: 1 * KB },
  form: { htmlCss: 14 * KB, js: 85 * KB },
};
const lazyBudget = { encryption: 70 * KB };

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const local = (url) => join(root, url.split('?')[0]);

const importsOf = new Map();

/**
 * `import{a}from"./x.js"` and `import"./x.js"`, but not `import("./x.js")` (lazy, a call), as the
 * TypeScript parser reads them (a pattern for `import … from` is quadratic in its spaces).
 */
function staticImports(file) {
  if (!importsOf.has(file)) {
    const module = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    const specs = module.statements.flatMap((s) => (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) ? [s.moduleSpecifier.text] : []));
    importsOf.set(file, specs);
  }
  return importsOf.get(file);
}

/** A module and everything it imports statically (what the browser must fetch before running it). */
function staticClosure(file, seen = new Set()) {
  if (seen.has(file) || !existsSync(file)) return seen;
  seen.add(file);
  for (const spec of staticImports(file)) {
    if (spec.startsWith('.') || spec.startsWith('/')) {
      staticClosure(spec.startsWith('/') ? local(spec) : join(file, '..', spec), seen);
    }
  }
  return seen;
}

function pages(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return pages(path);
    return name.endsWith('.html') ? [path] : [];
  });
}

// Each kind's form has a page of that name in every language (src/pages/[locale]/<kind>.astro).
const isFormPage = (file) => kinds.some((kind) => file.endsWith(`/${kind}/index.html`));
const HREF = /\shref="([^"]+)"/;
const SRC = /\ssrc="([^"]+)"/;
/** The value `pattern` captures in each tag that has it. */
const values = (tags, pattern) => tags.flatMap((tag) => pattern.exec(tag)?.[1] ?? []);
const rows = [];
let failed = false;
// What a form page has already loaded when the person sends: a lazy chunk's imports of these cost nothing more.
const loadedByForms = new Set();
for (const file of pages(root)) {
  const html = readFileSync(file, 'utf8');
  // Start tags first, then their attributes: `[^<>]*` ends at the next tag, so each part of the
  // page is read once (`<link[^>]+rel="…"[^>]+href=` read on again from every `<link`: polynomial).
  const links = html.match(/<link\b[^<>]*>/g) ?? [];
  const scripts = html.match(/<script\b[^<>]*>/g) ?? [];
  const css = values(links.filter((tag) => /\srel="stylesheet"/.test(tag)), HREF).map(local);
  const entryScripts = [
    ...values(scripts, SRC),
    ...[...html.matchAll(/(?:component-url|renderer-url)="([^"]+)"/g)].map((m) => m[1]),
    ...values(links.filter((tag) => /\srel="modulepreload"/.test(tag)), HREF),
  ];
  const js = new Set();
  for (const src of entryScripts) for (const f of staticClosure(local(src))) js.add(f);
  const inlineScripts = scripts.filter((tag) => !/\bsrc=/.test(tag) && !tag.includes('type="application/ld+json"')).length;
  const htmlCss = gz(file) + css.reduce((n, f) => n + gz(f), 0);
  const jsBytes = [...js].reduce((n, f) => n + gz(f), 0);
  const kind = isFormPage(file) ? 'form' : 'content';
  if (kind === 'form') for (const f of js) loadedByForms.add(f);
  const budget = budgets[kind];
  const island = html.includes('<astro-island');
  const problems = [];
  if (htmlCss > budget.htmlCss) problems.push('HTML+CSS');
  if (jsBytes > budget.js) problems.push('JS');
  if (kind === 'content' && island) problems.push('framework JS on a content page');
  if (inlineScripts) problems.push('inline script (CSP)');
  if (problems.length) failed = true;
  rows.push({
    page: '/' + relative(root, file).replace(/index\.html$/, ''),
    kind,
    'html+css gz': htmlCss,
    'js gz': jsBytes,
    requests: 1 + css.length + js.size,
    result: problems.length ? `OVER: ${problems.join(', ')}` : 'ok',
  });
}

// The lazily loaded encryption chunk (loaded at submit on a form page), when the build has one:
// it and its static imports, less the modules the form page has already loaded (React, zod...).
const assets = join(root, '_astro');
for (const name of existsSync(assets) ? readdirSync(assets) : []) {
  if (!/^(openpgp|encrypt)[^/]*\.js$/i.test(name)) continue;
  const size = [...staticClosure(join(assets, name))].filter((f) => !loadedByForms.has(f)).reduce((n, f) => n + gz(f), 0);
  const over = size > lazyBudget.encryption;
  failed ||= over;
  rows.push({ page: `(lazy) ${name}`, kind: 'lazy', 'html+css gz': 0, 'js gz': size, requests: 0, result: over ? 'OVER' : 'ok' });
}

const fmt = (n) => (n / KB).toFixed(1).padStart(6) + ' KB';
console.log('page'.padEnd(40), 'kind'.padEnd(8), 'html+css'.padStart(9), '      js', 'reqs', ' result');
for (const r of rows.sort((a, b) => a.page.localeCompare(b.page))) {
  console.log(r.page.padEnd(40), r.kind.padEnd(8), fmt(r['html+css gz']), fmt(r['js gz']), String(r.requests).padStart(4), ' ' + r.result);
}
console.log(`\nBudgets: content ≤ ${budgets.content.htmlCss / KB} KB HTML+CSS, ≤ ${budgets.content.js / KB} KB JS (no framework); forms ≤ ${budgets.form.htmlCss / KB} KB HTML+CSS, ≤ ${budgets.form.js / KB} KB JS; encryption chunk ≤ ${lazyBudget.encryption / KB} KB.`);

// What Chromium transfers from the running server (scripts/lib/wire.mjs): every template in the
// left-to-right default and the right-to-left locale, JavaScript off and on. Over plain HTTP on
// loopback Chromium asks for gzip only (brotli only over HTTPS), so a visitor behind TLS gets less.
const wireBudgets = { content: { htmlCssBodies: 14 * KB, allWithHeaders: 20 * KB }, form: { allWithHeaders: 100 * KB } };
const templates = (locale) => {
  const first = (dir) => readdirSync(join(root, locale, dir)).find((name) => statSync(join(root, locale, dir, name)).isDirectory());
  return ['', 'about/', 'faq/', 'directory/', `directory/${first('directory')}/`, 'news/', `news/${first('news')}/`, 'missing-persons/', 'safety/', ...kinds.map((k) => `${k}/`)]
    .map((page) => `/${locale}/${page}`);
};
const wireRows = [];
const server = await startServer({ RATE_LIMIT_REFUSED: '100000/10m' });
const browser = await launchChromium();
// Each load waits for the network to be idle for half a second: four at once, each in its own
// context with its own network log, so the bytes counted are the same as one by one.
const loads = [...templates('ru'), ...templates('ar')].flatMap((path) => [false, true].map((javaScript) => ({ path, javaScript })));
const measured = new Array(loads.length);
let taken = 0;
const worker = async () => {
  while (taken < loads.length) {
    const i = taken++;
    measured[i] = await measureTransfer(browser, server.url + loads[i].path, loads[i]);
  }
};
try {
  await Promise.all(Array.from({ length: 4 }, worker));
  for (const [i, { path, javaScript }] of loads.entries()) {
    const t = measured[i];
    const kind = kinds.some((k) => path.endsWith(`/${k}/`)) ? 'form' : 'content';
    const problems = [];
    if (t.encodings.some((e) => e === '')) problems.push('uncompressed text');
    if (kind === 'content' && t.htmlCssBodies > wireBudgets.content.htmlCssBodies) problems.push('HTML+CSS');
    if (kind === 'content' && t.allWithHeaders > wireBudgets.content.allWithHeaders) problems.push('all');
    if (kind === 'form' && t.allWithHeaders > wireBudgets.form.allWithHeaders) problems.push('all');
    failed ||= problems.length > 0;
    wireRows.push({ path, javaScript, kind, ...t, result: problems.length ? `OVER: ${problems.join(', ')}` : 'ok' });
  }
} finally {
  await browser.close();
  await server.stop();
}
console.log(`\nOn the wire (Chromium's network log, cache off; ${[...new Set(wireRows.flatMap((r) => r.encodings))].join(', ')}):`);
console.log('page'.padEnd(40), 'JS '.padEnd(4), 'html+css', '   all+hdr', 'reqs', ' result');
for (const r of wireRows) {
  console.log(r.path.padEnd(40), (r.javaScript ? 'on' : 'off').padEnd(4), fmt(r.htmlCssBodies), fmt(r.allWithHeaders).padStart(11), String(r.requests).padStart(4), ' ' + r.result);
}
console.log(`Wire budgets: content pages ≤ ${wireBudgets.content.htmlCssBodies / KB} KB of HTML and CSS bodies, ≤ ${wireBudgets.content.allWithHeaders / KB} KB in all with headers; form pages ≤ ${wireBudgets.form.allWithHeaders / KB} KB in all with JavaScript; every text answer compressed.`);
console.log(failed ? 'budget: OVER' : `budget: ${rows.length} pages within budget, ${wireRows.length} loads on the wire within budget`);
process.exit(failed ? 1 : 0);
