import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, isOnionAddress, isPredictableSecret, loadConfig, loadPublicUrl } from '../../../../src/intake/server/config.ts';

const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----';
// What `openssl rand -hex 32` prints.
const SECRET = 'd3384a38a79d8c94b2fbcffbfc14a4252547f4794858c432094e3c0939a99c17';

/** The problems loadConfig reports for `env`, or fails the test if it accepts it. */
function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const production = {
  APP_ENV: 'production',
  STAFF_PGP_KEYS: KEY,
  STAFF_EMAILS: 'staff@example.org, second@example.org',
  MAIL_FROM: 'Alternativa <intake@example.org>',
  RESEND_API_KEY: 're_test_123',
  RATE_LIMIT_SECRET: SECRET,
};

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 4321,
      publicUrl: 'http://127.0.0.1:4321',
      keys: { source: 'dev', dir: resolve('var/dev-keys') },
      mail: undefined,
      store: { kind: 'memory' },
      rateLimitSecretGenerated: true,
      rateLimitAddress: { tokens: 5, windowMs: 600_000, duration: '10 m' },
      rateLimitGlobal: { tokens: 300, windowMs: 3_600_000, duration: '1 h' },
      rateLimitRefused: { tokens: 20, windowMs: 600_000, duration: '10 m' },
      trustProxy: 0,
      outboxDir: resolve('var/outbox'),
      usedReferencesDir: resolve('var/references'),
      outboxRetrySeconds: 30,
      uploadFloor: {},
      botMinFillMs: 3000,
      headersTimeoutMs: 20_000,
      logCountMs: 10_000,
      devKeysDir: resolve('var/dev-keys'),
    });
    // Without PUBLIC_URL, the configured host and port in their loopback spellings, nothing else.
    expect(config.allowedOrigins.sort()).toEqual(['http://127.0.0.1:4321', 'http://[::1]:4321', 'http://localhost:4321']);
    expect(config.rateLimitSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig({}).rateLimitSecret).not.toBe(config.rateLimitSecret);
  });

  it('allows posts from PUBLIC_URL alone when it is set, and from a public host only as configured', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://help.example.org' }).allowedOrigins).toEqual(['https://help.example.org']);
    expect(loadConfig({ HOST: 'help.example.org', PORT: '8080' }).allowedOrigins).toEqual(['http://help.example.org:8080']);
    expect(loadConfig({ OUTBOX_DIR: '/srv/alt/outbox' }).usedReferencesDir).toBe('/srv/alt/references');
  });

  it('treats empty values as unset and derives PUBLIC_URL from HOST and PORT', () => {
    const config = loadConfig({ HOST: '::1', PORT: '8080', STAFF_EMAILS: '', OUTBOX_DIR: ' ' });
    expect(config.publicUrl).toBe('http://[::1]:8080');
    expect(config.outboxDir).toBe(resolve('var/outbox'));
  });

  it('gives the build the public URL by the same rule, reading nothing else', () => {
    for (const env of [{}, { HOST: '::1', PORT: '8080' }, { PUBLIC_URL: 'https://help.example.org', PORT: '' }]) {
      expect(loadPublicUrl(env), JSON.stringify(env)).toBe(loadConfig(env).publicUrl);
    }
    // A build machine has no keys or mail set up; what would stop the server does not stop the build.
    expect(loadPublicUrl({ APP_ENV: 'production', PUBLIC_URL: 'https://help.example.org' })).toBe('https://help.example.org');
    expect(() => loadConfig({ APP_ENV: 'production', PUBLIC_URL: 'https://help.example.org' })).toThrow(ConfigError);
    expect(() => loadPublicUrl({ PORT: '80x' })).toThrow(/PORT/);
  });

  it('parses a complete production environment', () => {
    const config = loadConfig({
      ...production,
      RESEND_BASE_URL: 'https://mail-relay.example.org/',
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_ADDRESS: '20/1d',
      TRUST_PROXY: '1',
      PUBLIC_URL: 'https://help.example.org/',
      SOMETHING_ELSE: 'ignored',
    });
    expect(config.production).toBe(true);
    expect(config.mail).toEqual({
      apiKey: 're_test_123',
      baseUrl: 'https://mail-relay.example.org',
      from: 'Alternativa <intake@example.org>',
      to: ['staff@example.org', 'second@example.org'],
      timeoutMs: 15_000,
    });
    expect(loadConfig({ ...process.env, RESEND_API_KEY: 're_x', STAFF_EMAILS: 'a@b.org', MAIL_FROM: 'c@d.org', MAIL_TIMEOUT_SECONDS: '3' }).mail?.timeoutMs).toBe(3000);
    expect(() => loadConfig({ MAIL_TIMEOUT_SECONDS: '0' })).toThrow(/MAIL_TIMEOUT_SECONDS/);
    expect(loadConfig({ BOT_MIN_FILL_MS: '250' }).botMinFillMs).toBe(250);
    for (const bad of ['-1', '2.5', '3 s', '60001']) expect(() => loadConfig({ BOT_MIN_FILL_MS: bad }), bad).toThrow(/BOT_MIN_FILL_MS/);
    expect(loadConfig({ HEADERS_TIMEOUT_SECONDS: '3', LOG_COUNT_SECONDS: '1' })).toMatchObject({ headersTimeoutMs: 3000, logCountMs: 1000 });
    // A head timeout under 2 s would cut a phone on a bad network; counts stay at most an hour apart.
    for (const bad of ['1', '121', 'x']) expect(() => loadConfig({ HEADERS_TIMEOUT_SECONDS: bad }), bad).toThrow(/HEADERS_TIMEOUT_SECONDS/);
    for (const bad of ['0', '3601']) expect(() => loadConfig({ LOG_COUNT_SECONDS: bad }), bad).toThrow(/LOG_COUNT_SECONDS/);
    expect(loadConfig({ UPLOAD_FLOOR_WINDOW_SECONDS: '2', UPLOAD_FLOOR_GRACE_SECONDS: '0' }).uploadFloor).toEqual({ windowMs: 2000, graceMs: 0 });
    expect(loadConfig({ UPLOAD_FLOOR_GRACE_SECONDS: '1' }).uploadFloor).toEqual({ graceMs: 1000 });
    for (const bad of ['-1', '61', '0.5']) expect(() => loadConfig({ UPLOAD_FLOOR_GRACE_SECONDS: bad }), bad).toThrow(/UPLOAD_FLOOR_GRACE_SECONDS/);
    expect(config.keys).toEqual({ source: 'env', armored: KEY });
    expect(config.store).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379' });
    expect(config.rateLimitAddress).toEqual({ tokens: 20, windowMs: 86_400_000, duration: '1 d' });
    expect(config.publicUrl).toBe('https://help.example.org');
    expect(config.rateLimitSecret).toBe(SECRET);
  });

  it('names every invalid variable, one line each, in a single error', () => {
    const lines = problems({
      APP_ENV: 'staging',
      HOST: 'two words',
      PORT: 'http',
      PUBLIC_URL: 'https://example.org/help',
      STAFF_EMAILS: 'staff@example.org,not-an-email',
      MAIL_FROM: 'nobody',
      STAFF_PGP_KEYS: 'not armored',
      RESEND_BASE_URL: 'ftp://x',
      UPSTASH_REDIS_REST_URL: 'nope',
      UPSTASH_REDIS_REST_TOKEN: 't',
      RATE_LIMIT_SECRET: 'short',
      RATE_LIMIT_ADDRESS: '5 per minute',
      RATE_LIMIT_GLOBAL: '0/1h',
      TRUST_PROXY: '-1',
      OUTBOX_RETRY_SECONDS: '0',
    });
    const named = lines.map((line) => line.split(':')[0]);
    expect(named.sort()).toEqual([
      'APP_ENV', 'HOST', 'MAIL_FROM', 'OUTBOX_RETRY_SECONDS', 'PORT', 'PUBLIC_URL', 'RATE_LIMIT_ADDRESS',
      'RATE_LIMIT_GLOBAL', 'RATE_LIMIT_SECRET', 'RESEND_BASE_URL', 'STAFF_EMAILS', 'STAFF_PGP_KEYS',
      'TRUST_PROXY', 'UPSTASH_REDIS_REST_URL',
    ]);
    expect(lines).toContain('STAFF_EMAILS: "not-an-email" is not an email address');
    expect(lines.find((l) => l.startsWith('RATE_LIMIT_ADDRESS'))).toMatch(/5\/10m/);
    // A secret's value never appears in the message.
    expect(lines.join('\n')).not.toContain('short');
  });

  it('refuses ambiguous and half-set pairs', () => {
    expect(problems({ STAFF_PGP_KEYS_FILE: '/k.asc', STAFF_PGP_KEYS: KEY })).toEqual([
      'STAFF_PGP_KEYS: set only one of STAFF_PGP_KEYS_FILE and STAFF_PGP_KEYS',
    ]);
    expect(problems({ UPSTASH_REDIS_REST_URL: 'https://u.example.org' })[0]).toMatch(/^UPSTASH_REDIS_REST_TOKEN: is required/);
    expect(problems({ UPSTASH_REDIS_REST_URL: 'https://u.example.org', UPSTASH_REDIS_REST_TOKEN: 't', REDIS_URL: 'redis://h' })[0])
      .toMatch(/^REDIS_URL: set either/);
    expect(problems({ RESEND_API_KEY: 're_x' }).map((l) => l.split(':')[0]).sort()).toEqual(['MAIL_FROM', 'STAFF_EMAILS']);
  });

  it.each(['STAFF_EMAILS', 'MAIL_FROM', 'RESEND_API_KEY', 'RATE_LIMIT_SECRET', 'STAFF_PGP_KEYS'] as const)(
    'in production, a missing %s is fatal and named',
    (variable) => {
      const env: NodeJS.ProcessEnv = { ...production };
      delete env[variable];
      const lines = problems(env);
      const expected = variable === 'STAFF_PGP_KEYS' ? 'STAFF_PGP_KEYS_FILE' : variable;
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${expected}: is required .*APP_ENV=production`));
    },
  );

  it('in production, reports all missing variables at once', () => {
    expect(problems({ APP_ENV: 'production' }).map((l) => l.split(':')[0]).sort()).toEqual([
      'MAIL_FROM', 'RATE_LIMIT_SECRET', 'RESEND_API_KEY', 'STAFF_EMAILS', 'STAFF_PGP_KEYS_FILE',
    ]);
  });

  it.each([
    ['one character', 'a'.repeat(32)],
    ['two characters alternating', 'ab'.repeat(16)],
    ['a word repeated', 'changeme-changeme-changeme-changeme'],
    ['the digits repeated', '0123456789'.repeat(4)],
    ['hex digits counted up twice', '0123456789abcdef'.repeat(2)],
    ['few distinct characters', 'aabbccddeeffgghhaabbccddeeffgghhx'],
  ])('in production, refuses a guessable RATE_LIMIT_SECRET (%s) and says how to make one', (_, secret) => {
    const lines = problems({ ...production, RATE_LIMIT_SECRET: secret });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^RATE_LIMIT_SECRET: is too easy to guess .*generate one with openssl rand -hex 32$/);
    expect(lines[0]).not.toContain(secret);
  });

  it('accepts what openssl rand -hex 32 and -base64 32 print, and any secret outside production', () => {
    for (let i = 0; i < 500; i++) {
      for (const secret of [randomBytes(32).toString('hex'), randomBytes(32).toString('base64')]) {
        expect(isPredictableSecret(secret), secret).toBe(false);
      }
    }
    expect(loadConfig({ ...production, RATE_LIMIT_SECRET: randomBytes(32).toString('base64') }).production).toBe(true);
    expect(loadConfig({ RATE_LIMIT_SECRET: 'a'.repeat(32) }).rateLimitSecret).toBe('a'.repeat(32));
  });

  it('in production, RESEND_BASE_URL must be https (a local http sink is fine in development)', () => {
    expect(problems({ ...production, RESEND_BASE_URL: 'http://mail-relay.example.org' })).toEqual([
      "RESEND_BASE_URL: must be an https:// URL when APP_ENV=production (the API key and the applications travel over it); unset it to use Resend's default API",
    ]);
    expect(loadConfig({ ...production, RESEND_BASE_URL: 'HTTPS://mail-relay.example.org' }).mail?.baseUrl).toMatch(/^https:/i);
    expect(loadConfig({ ...production }).mail?.baseUrl).toBeUndefined();
    expect(loadConfig({ RESEND_BASE_URL: 'http://127.0.0.1:9' }).production).toBe(false);
  });

  it('in production, names a guessable secret and an http mail URL with the other problems, at once', () => {
    const lines = problems({ ...production, MAIL_FROM: '', RATE_LIMIT_SECRET: 'x'.repeat(40), RESEND_BASE_URL: 'http://127.0.0.1:9' });
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(['MAIL_FROM', 'RATE_LIMIT_SECRET', 'RESEND_BASE_URL']);
  });

  it('keeps the outbox in files unless OUTBOX_STORE=redis, which needs REDIS_URL and refuses Upstash\'s REST API, saying why', () => {
    expect(loadConfig({}).outboxStore).toBe('file');
    expect(loadConfig({ OUTBOX_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).outboxStore).toBe('redis');
    expect(problems({ OUTBOX_STORE: 'disk' })).toEqual(['OUTBOX_STORE: must be "file" or "redis"']);
    expect(problems({ OUTBOX_STORE: 'redis' })).toEqual([expect.stringMatching(/^REDIS_URL: is required with OUTBOX_STORE=redis/)]);
    const upstash = problems({ OUTBOX_STORE: 'redis', UPSTASH_REDIS_REST_URL: 'https://u.example.org', UPSTASH_REDIS_REST_TOKEN: 't' });
    expect(upstash).toEqual([expect.stringMatching(/^REDIS_URL: .*not run over Upstash's REST API.*rediss:\/\//)]);
    expect(describeConfig(loadConfig({ OUTBOX_STORE: 'redis', REDIS_URL: 'redis://:pw@127.0.0.1:6379' }))).toMatch(/Redis outbox/);
  });
});

describe('ONION_URL', () => {
  // Written by tor into the service's hostname file (a v3 address, with its checksum).
  const ONION = 'http://f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion';

  it('takes the onion service\'s origin, lower-cased and without a trailing slash, and lets its pages post', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://help.example.org', ONION_URL: `${ONION.toUpperCase().replace('HTTP://', 'http://')}/` });
    expect(config.onionUrl).toBe(ONION);
    expect(config.allowedOrigins).toEqual(['https://help.example.org', ONION]);
    expect(loadConfig({}).onionUrl).toBeUndefined();
    expect(describeConfig(config)).toMatch(/Onion-Location/);
    expect(describeConfig(config)).not.toContain('.onion');
  });

  it('refuses anything but the http origin of a v3 onion address whose checksum holds, naming the variable', () => {
    const bad = [
      'https://f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion',
      `${ONION}/ru/`,
      `${ONION}?x=1`,
      `${ONION}:8080`,
      'http://user:pw@f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion',
      // One character off: the checksum catches the typo.
      'http://f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfia.onion',
      // A v2 address (16 characters): gone from Tor since 2021.
      'http://expyuzz4wqqyqhjn.onion',
      'http://help.example.org',
      'not a url',
    ];
    for (const value of bad) {
      const lines = problems({ ONION_URL: value });
      expect(lines.length, value).toBeGreaterThan(0);
      expect(lines.every((l) => l.startsWith('ONION_URL: ')), value).toBe(true);
    }
  });

  it('recognises v3 addresses by their checksum and version', () => {
    expect(isOnionAddress('f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion')).toBe(true);
    expect(isOnionAddress('duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion')).toBe(true);
    expect(isOnionAddress('2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion')).toBe(true);
    expect(isOnionAddress('2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wie.onion')).toBe(false);
    expect(isOnionAddress('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion')).toBe(false);
    expect(isOnionAddress('f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion.example.org')).toBe(false);
  });
});

describe('URLs that are not URLs', () => {
  it('are named as a problem of their variable, not thrown as a bare TypeError', () => {
    expect(problems({ PUBLIC_URL: 'not a url' })).toEqual(['PUBLIC_URL: must be an http(s) URL']);
  });
});

describe('describeConfig', () => {
  it('summarises stores and sources on one line without secrets', () => {
    const summary = describeConfig(loadConfig({ ...production, UPSTASH_REDIS_REST_URL: 'https://user:pw@u.example.org', UPSTASH_REDIS_REST_TOKEN: 'tok-secret' }));
    expect(summary).not.toMatch(/\n/);
    expect(summary).toContain('production');
    expect(summary).toContain('keys from STAFF_PGP_KEYS');
    expect(summary).toContain('Upstash');
    expect(summary).toContain('2 recipient(s)');
    for (const secret of ['re_test_123', SECRET, 'tok-secret', 'pw@', 'staff@example.org']) expect(summary).not.toContain(secret);
  });

  it('says when mail is outbox-only, keys are dev keys and the secret is random', () => {
    const summary = describeConfig(loadConfig({}));
    expect(summary).toMatch(/outbox only/);
    expect(summary).toMatch(/DEV key pair/);
    expect(summary).toMatch(/process memory/);
    expect(summary).toMatch(/random rate-limit secret/);
  });
});
