/**
 * Every regular expression the code runs is linear in its input (issue 11): each one is found by
 * parsing the sources, not by a pattern over their text, and put through recheck, a ReDoS checker.
 * Patterns built at run time (`new RegExp`) and those zod builds for the helpers we call are
 * listed here by hand, and a new one that is not listed fails the test, so none slips past.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertToTsx } from '@astrojs/astro2tsx';
// recheck runs its native binary (the optional dependency recheck-linux-x64) when npm installed
// it, else its JAR if `java` is on the PATH, else its Scala.js build in a worker thread: the same
// checker each time, the last about five times slower.
import { check, type Diagnostics } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REFERENCE } from '../../src/intake/contract/reference.ts';
import { ATTACHMENT_NAME } from '../../src/intake/contract/pgp.ts';
import { ENVELOPE_FILE, TEMP_FILE } from '../../src/intake/server/delivery/outbox.ts';
import { noStore } from '../../src/intake/server/http/headers.ts';

const root = resolve(import.meta.dirname, '../..');

/** One place a pattern is made: a literal, a `RegExp` call, or a zod helper call. */
interface Site {
  file: string;
  line: number;
  /** For `RegExp` calls: the declaration it is in; for zod: the helper and its arguments. */
  key: string;
}

interface Found {
  literals: (Site & { source: string; flags: string })[];
  constructed: Site[];
  zod: Site[];
}

/**
 * Patterns made at run time, by file and the declaration that holds them: the test checks the
 * pattern itself, so each entry gives the object (or a function that builds it).
 */
const constructed: Record<string, () => RegExp> = {
  'src/intake/contract/reference.ts REFERENCE': () => REFERENCE,
  'src/intake/contract/pgp.ts ATTACHMENT_NAME': () => ATTACHMENT_NAME,
  'src/intake/server/delivery/outbox.ts ENVELOPE_FILE': () => ENVELOPE_FILE,
  'src/intake/server/delivery/outbox.ts TEMP_FILE': () => TEMP_FILE,
  'src/intake/server/http/headers.ts noStore': () => noStore,
};

/** The patterns a zod schema runs on its input: its format's and those of its checks. */
function patternsOf(schema: z.ZodType): RegExp[] {
  const defs: object[] = [schema._zod.def, ...(schema._zod.def.checks ?? []).map((c) => c._zod.def)];
  return defs.flatMap((def) => ['pattern', 'hostname', 'protocol'].map((key) => (def as Record<string, unknown>)[key])).filter((p) => p instanceof RegExp);
}

/**
 * zod helpers that carry a pattern of zod's own (the same objects as `z.regexes`), keyed by the
 * call as written (arguments choose the pattern, e.g. `offset`). A pattern passed in by us
 * (`regex(...)`, `url({ protocol })`) is a literal found in the walk, so those keys list none.
 */
const zodPatterns: Record<string, () => z.ZodType> = {
  'email()': () => z.email(),
  'iso.datetime({ offset: true })': () => z.iso.datetime({ offset: true }),
  // zod 4 matches these with String.prototype methods; the pattern it builds is for JSON Schema.
  "startsWith('-----BEGIN PGP MESSAGE-----')": () => z.string().startsWith('-----BEGIN PGP MESSAGE-----'),
  "includes('-----BEGIN PGP', { error: 'must hold ASCII-armored keys' })": () =>
    z.string().includes('-----BEGIN PGP', { error: 'must hold ASCII-armored keys' }),
};

/** Helpers whose pattern is ours (a literal, checked in the walk) or that run no pattern at all. */
const zodPatternFree = new Set([
  // Our pattern: the argument. `url` runs the WHATWG URL parser, then our `protocol` pattern.
  'regex', 'url',
  // No pattern: types, containers, sizes, transforms. (`string`, `enum` and `literal` have a
  // `_zod.pattern`, but only `templateLiteral` uses it.)
  'string', 'number', 'int', 'boolean', 'literal', 'enum', 'strictObject', 'object', 'array', 'record',
  'union', 'discriminatedUnion', 'optional', 'nullable', 'default', 'pipe', 'transform', 'refine', 'tuple',
  'superRefine', 'check', 'overwrite', 'normalize', 'trim', 'toLowerCase', 'minLength', 'maxLength',
  'length', 'min', 'max', 'nonnegative', 'positive', 'gte', 'lte', 'coerce.date', 'coerce.number',
  'safeParse', 'parse', 'prettifyError', 'lazy', 'unknown', 'any', 'never', 'custom',
]);

function sourceFiles(): string[] {
  const list = (dir: string, ends: RegExp) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((name) => ends.test(name))
      .map((name) => join(dir, name));
  return [...list('src', /\.(?:tsx?|mts|astro)$/), ...list('scripts', /\.mjs$/)].sort();
}

/** The declaration a node sits in, by name: the key of a `RegExp` call in {@link constructed}. */
function holder(node: ts.Node): string {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (
      (ts.isVariableDeclaration(n) || ts.isFunctionDeclaration(n) || ts.isPropertyAssignment(n) ||
        ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n)) && n.name
    ) {
      return n.name.getText();
    }
  }
  return '(top level)';
}

/** `z.email`, `z.iso.datetime` or a method of a chain that starts at `z` (`z.string().regex`). */
function zodHelper(call: ts.CallExpression, zodNames: Set<string>): string | undefined {
  if (!ts.isPropertyAccessExpression(call.expression)) return undefined;
  const path: string[] = [];
  let e: ts.Expression = call.expression;
  while (ts.isPropertyAccessExpression(e)) {
    path.unshift(e.name.text);
    e = e.expression;
  }
  if (ts.isIdentifier(e) && zodNames.has(e.text)) return path.join('.');
  // A method on a chain: walk down through calls to see whether it starts at `z`.
  for (let inner: ts.Expression = call.expression.expression; ; ) {
    if (ts.isCallExpression(inner) || ts.isPropertyAccessExpression(inner)) inner = inner.expression;
    else if (ts.isIdentifier(inner) && zodNames.has(inner.text)) return call.expression.name.text;
    else return undefined;
  }
}

/** Names a file binds to zod (`import { z } from 'zod'`, `import * as z from 'zod/mini'`). */
function zodBindings(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (!/^(?:zod|astro\/zod)(?:\/|$)/.test(statement.moduleSpecifier.text)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements) if ((el.propertyName ?? el.name).text === 'z') names.add(el.name.text);
    }
  }
  return names;
}

/** Walks one piece of code; `lineOf` turns a position in it into a line of the real file. */
function walk(file: string, code: string, kind: ts.ScriptKind, lineOf: (pos: number) => number, found: Found): void {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, kind);
  const zodNames = zodBindings(source);
  const site = (node: ts.Node, key: string): Site => ({ file, line: lineOf(node.getStart(source)), key });
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const text = node.getText(source);
      const end = text.lastIndexOf('/');
      found.literals.push({ ...site(node, text), source: text.slice(1, end), flags: text.slice(end + 1) });
    }
    if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
      if (name === 'RegExp') found.constructed.push(site(node, `${file} ${holder(node)}`));
      // `s.match('x')` and friends turn a string into a RegExp: only a literal or a name may go in
      // (a name is taken to be a RegExp, whose literal or constructor the walk finds where it is made).
      if (['match', 'matchAll', 'search'].includes(name) && node.arguments?.[0]) {
        const arg = node.arguments[0];
        if (!ts.isRegularExpressionLiteral(arg) && !ts.isIdentifier(arg)) found.constructed.push(site(node, `${file} ${holder(node)}`));
      }
    }
    if (ts.isCallExpression(node)) {
      const helper = zodHelper(node, zodNames);
      if (helper !== undefined) {
        const args = node.arguments.map((a) => a.getText(source).replace(/\s+/g, ' ')).join(', ');
        found.zod.push(site(node, zodPatternFree.has(helper) ? helper : `${helper}(${args})`));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

/** Line (1-based) of an offset in a text. */
function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** Adds the patterns of one source file to `found`. */
function collect(file: string, text: string, found: Found): void {
  if (!file.endsWith('.astro')) {
    const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : file.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS;
    walk(file, text, kind, (pos) => lineAt(text, pos), found);
    return;
  }
  // Astro's own converter (what `astro check` uses): frontmatter and template expressions as TSX,
  // with a map back to the .astro file, and the `<script>` bodies beside it.
  const tsx = convertToTsx(text, { filename: file });
  expect(tsx.hasParseErrors, `${file} does not parse`).toBe(false);
  const original = (pos: number): number => {
    const m = tsx.mappings.find(([start, length]) => start <= pos && pos < start + length);
    return m ? m[2] + (m[1] === m[3] ? pos - m[0] : 0) : 0;
  };
  walk(file, tsx.code, ts.ScriptKind.TSX, (pos) => lineAt(text, original(pos)), found);
  for (const script of tsx.scripts) {
    if (script.type === 'json') continue;
    walk(file, script.content, ts.ScriptKind.TS, (pos) => lineAt(text, script.position.start + pos), found);
  }
}

function findPatterns(): Found {
  const found: Found = { literals: [], constructed: [], zod: [] };
  for (const file of sourceFiles()) collect(file, readFileSync(join(root, file), 'utf8'), found);
  return found;
}

// recheck's default of 10 s per pattern is short for zod's datetime pattern on a busy 2-core
// machine; a timeout would read as "unknown", not "safe", and fail the test for nothing.
const CHECK_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 240_000;

/** recheck's verdict on each distinct pattern, checked once however often the code uses it. */
const verdicts = new Map<string, Promise<Diagnostics>>();
function verdict(source: string, flags: string): Promise<Diagnostics> {
  const key = `/${source}/${flags}`;
  if (!verdicts.has(key)) verdicts.set(key, check(source, flags, { timeout: CHECK_TIMEOUT_MS }));
  return verdicts.get(key)!;
}

function describeFailure(where: string, pattern: string, result: Diagnostics): string {
  const detail =
    result.status === 'vulnerable'
      ? `${result.complexity.summary}, attack: ${result.attack.pattern}`
      : result.status === 'unknown'
        ? `${result.error.kind}${'message' in result.error ? `: ${result.error.message}` : ''}`
        : '';
  return `${where} ${pattern} is ${result.status} (${detail})`;
}

const found = findPatterns();

describe('regular expressions', () => {
  it('finds patterns wherever a file can hold them (the walk itself works)', () => {
    const sample: Found = { literals: [], constructed: [], zod: [] };
    const astro = [
      '---',
      "const a = 'x'.replace(/front/g, '');",
      '---',
      "<p>{'y'.replace(/template/, '')}</p>",
      '<script>',
      '  const b = /script/u;',
      '  const c = new RegExp(b.source);',
      '</script>',
    ].join('\n');
    collect('Sample.astro', astro, sample);
    collect('sample.ts', "import { z } from 'zod';\nconst s = z.string().regex(/ts/).pipe(z.email());\n", sample);
    expect(sample.literals.map((l) => `${l.file}:${l.line} ${l.key}`)).toEqual([
      'Sample.astro:2 /front/g',
      'Sample.astro:4 /template/',
      'Sample.astro:6 /script/u',
      'sample.ts:2 /ts/',
    ]);
    expect(sample.constructed.map((s) => `${s.file}:${s.line} ${s.key}`)).toEqual(['Sample.astro:7 Sample.astro c']);
    expect(sample.zod.map((s) => s.key)).toEqual(['pipe', 'regex', 'string', 'email()']);
    expect(found.literals.map((l) => `${l.file} ${l.key}`)).toContain('src/pages/[locale]/faq.astro /[*_#>]/g');
  });

  it('every literal in src/ and scripts/ is linear (recheck: safe)', async () => {
    const failures: string[] = [];
    for (const { file, line, source, flags, key } of found.literals) {
      const result = await verdict(source, flags);
      if (result.status !== 'safe') failures.push(describeFailure(`${file}:${line}`, key, result));
    }
    expect(failures).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('every RegExp built at run time is listed here, and is linear', async () => {
    const keys = found.constructed.map((s) => s.key);
    const unlisted = found.constructed.filter((s) => !(s.key in constructed)).map((s) => `${s.file}:${s.line} (${s.key})`);
    expect(unlisted, 'a RegExp is built here that this test does not check: add it to `constructed`').toEqual([]);
    expect(Object.keys(constructed).filter((k) => !keys.includes(k)), 'listed but no longer in the code').toEqual([]);
    const failures: string[] = [];
    for (const [key, build] of Object.entries(constructed)) {
      const pattern = build();
      const result = await verdict(pattern.source, pattern.flags);
      if (result.status !== 'safe') failures.push(describeFailure(key, String(pattern), result));
    }
    expect(failures).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('every zod helper we call is listed here, and the patterns zod runs for them are linear', async () => {
    const unlisted = found.zod.filter((s) => !(s.key in zodPatterns) && !zodPatternFree.has(s.key));
    expect(
      unlisted.map((s) => `${s.file}:${s.line} ${s.key}`),
      'a zod helper this test does not know: list its patterns in `zodPatterns` or, if it runs none of its own, in `zodPatternFree`',
    ).toEqual([]);
    const keys = found.zod.map((s) => s.key);
    expect(Object.keys(zodPatterns).filter((k) => !keys.includes(k)), 'listed but no longer in the code').toEqual([]);
    const failures: string[] = [];
    for (const [key, schema] of Object.entries(zodPatterns)) {
      const patterns = patternsOf(schema());
      expect(patterns.length, `${key} carries no pattern: move it to zodPatternFree`).toBeGreaterThan(0);
      for (const pattern of patterns) {
        const result = await verdict(pattern.source, pattern.flags);
        if (result.status !== 'safe') failures.push(describeFailure(`zod ${key}`, String(pattern), result));
      }
    }
    expect(failures).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
