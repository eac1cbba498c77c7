import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalTarget } from '../../../../src/intake/server/http/path.ts';

describe('canonicalTarget', () => {
  it.each([
    ['//ru/help/', '/ru/help/'],
    ['/ru//help/', '/ru/help/'],
    ['/ru/%68elp/', '/ru/help/'],
    ['/%72u/missing/', '/ru/missing/'],
    ['/./ru/help/', '/ru/help/'],
    ['/ru/%2e/help/', '/ru/help/'],
    ['/ru/%2E%2e/ru/help/', '/ru/help/'],
    ['/ru/.%2E/en/help', '/en/help'],
    ['/ru/x/../help/', '/ru/help/'],
    ['/../../ru/help/', '/ru/help/'],
    ['/ru/help/.', '/ru/help/'],
    ['/ru/help/..', '/ru/'],
    ['/ru/help//', '/ru/help/'],
    ['/ru%2Fhelp/', '/ru/help/'],
    ['/ru%2fhelp/', '/ru/help/'],
    ['/ru\\help/', '/ru/help/'],
    ['/ru/help#top', '/ru/help'],
    ['/api//applications', '/api/applications'],
    ['/ru/%d0%bf%D0%BE', '/ru/%D0%BF%D0%BE'],
  ])('%s is %s', (odd, canonical) => {
    expect(canonicalTarget(odd)).toBe(canonical);
  });

  it.each(['/', '/ru/', '/ru/help/', '/ru/help', '/api/applications', '/_astro/Base.vAmLLNki.css', '/ru/%D0%BF/', '/a%25b', '/ru/faq/?q=1'])(
    'leaves the canonical %s as it is',
    (target) => {
      expect(canonicalTarget(target)).toBe(target);
    },
  );

  it('keeps the query as sent and drops the fragment', () => {
    expect(canonicalTarget('/ru//help/?next=//x/../%68#frag')).toBe('/ru/help/?next=//x/../%68');
    expect(canonicalTarget('/ru/help?')).toBe('/ru/help?');
    expect(canonicalTarget('/ru/?a=%FF')).toBe('/ru/?a=%FF');
  });

  it('decodes only once: an escaped percent stays escaped', () => {
    expect(canonicalTarget('/ru/%2568elp/')).toBe('/ru/%2568elp/');
    expect(canonicalTarget('/%252e%252e/')).toBe('/%252e%252e/');
  });

  it('never gives a Location that leaves the site', () => {
    for (const odd of ['//evil.example/', '///evil.example', '/\\evil.example/', '/\\\\evil.example', '/%2F/evil.example', '/%5C/evil.example', '/./\\evil.example', '/../evil.example']) {
      expect(canonicalTarget(odd), odd).toMatch(/^\/(?![/\\])/);
    }
  });

  it.each([
    ['an empty target', ''],
    ['the asterisk form', '*'],
    ['the absolute form', 'http://example.org/ru/help/'],
    ['a bad escape', '/ru/%zz/'],
    ['a cut escape', '/ru/%6'],
    ['a lone percent', '/ru/%'],
    ['escaped bytes that are not UTF-8', '/ru/%FF/'],
    ['a space', '/ru/he lp/'],
    ['a control character', '/ru/\u0000'],
    ['a character outside ASCII', '/ru/п/'],
  ])('refuses %s', (_, target) => {
    expect(canonicalTarget(target)).toBeNull();
  });

  it('takes linear time on a long hostile target', () => {
    const long = `/${'./%2e%2E/../'.repeat(50_000)}${'//'.repeat(50_000)}${'%68'.repeat(50_000)}`;
    const start = performance.now();
    expect(canonicalTarget(long)).toBe(`/${'h'.repeat(50_000)}`);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

// Pieces that make odd spellings: slashes, dots, escapes of every kind, backslashes, queries.
const piece = fc.constantFrom('/', '//', '.', '..', '%2e', '%2E', '%2f', '%2F', '%5C', '\\', '%68', '%7E', '%25', '%d0%bf', '%zz', '%FF', 'ru', 'help', 'a', '~', '?', '#', '?x=//./', '-');
const target = fc.oneof(
  fc.array(piece, { maxLength: 24 }).map((pieces) => `/${pieces.join('')}`),
  fc.string({ maxLength: 40 }),
);

const unreservedChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~');
const segment = fc.string({ unit: unreservedChar, minLength: 1, maxLength: 8 }).filter((s) => s !== '.' && s !== '..');
const canonicalPath = fc
  .tuple(fc.array(segment, { maxLength: 6 }), fc.boolean())
  .map(([segments, slash]) => (segments.length === 0 ? '/' : `/${segments.join('/')}${slash ? '/' : ''}`));

/** One way to misspell a path without changing what it names. */
const misspell = fc.oneof(
  // An unreserved character escaped, in either case (not one inside an escape already).
  fc.tuple(fc.nat(), fc.boolean()).map(([at, upper]) => (path: string) => {
    const i = path.length > 1 ? 1 + (at % (path.length - 1)) : -1;
    if (i < 0 || !/[A-Za-z0-9._~-]/.test(path[i]!) || path[i - 1] === '%' || path[i - 2] === '%') return path;
    const hex = path.charCodeAt(i).toString(16).padStart(2, '0');
    return `${path.slice(0, i)}%${upper ? hex.toUpperCase() : hex}${path.slice(i + 1)}`;
  }),
  // A slash doubled, made a backslash, escaped, or followed by a dot segment or a detour.
  fc.tuple(fc.nat(), fc.constantFrom('//', '\\', '%2F', '/./', '/%2e/', '/x/../', '/y/%2E%2E/')).map(([at, spelling]) => (path: string) => {
    const slashes = [...path].flatMap((c, i) => (c === '/' ? [i] : []));
    const i = slashes[at % slashes.length]!;
    const spelled = `${path.slice(0, i)}${spelling}${path.slice(i + 1)}`;
    // The target itself always starts with a slash (anything else is not a path).
    return spelled.startsWith('/') ? spelled : `/${spelled}`;
  }),
);

describe('canonicalTarget properties', () => {
  it('gives a fixed point without //, /./ or /../, that starts with one slash', () => {
    fc.assert(
      fc.property(target, (raw) => {
        const canonical = canonicalTarget(raw);
        if (canonical === null) return;
        expect(canonicalTarget(canonical)).toBe(canonical);
        const path = canonical.split('?')[0]!;
        expect(path.startsWith('/')).toBe(true);
        for (const bad of ['//', '/./', '/../', '\\', '#']) expect(path).not.toContain(bad);
        expect(path.endsWith('/.') || path.endsWith('/..')).toBe(false);
        for (const [, hex] of path.matchAll(/%(..)/g)) {
          expect(hex).toBe(hex!.toUpperCase());
          expect(String.fromCharCode(parseInt(hex!, 16))).not.toMatch(/[A-Za-z0-9._~/-]/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('maps every misspelling of a canonical path back to it', () => {
    fc.assert(
      fc.property(canonicalPath, fc.array(misspell, { minLength: 1, maxLength: 5 }), (path, changes) => {
        const odd = changes.reduce((spelled, change) => change(spelled), path);
        expect(canonicalTarget(odd)).toBe(path);
      }),
      { numRuns: 2000 },
    );
  });
});
