import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { encryptApplication } from '../../../src/intake/server/encrypt.ts';
import { createOutbox } from '../../../src/intake/server/delivery/outbox.ts';
import { createStreamOutbox } from '../../../src/intake/server/delivery/stream-outbox.ts';
import { openRedisConnection } from '../../../src/intake/server/store/redis.ts';
import { REFERENCE_SHAPE } from '../../../src/intake/contract/reference.ts';
import { createGpgHome } from '../../support/gpg.ts';
import { eccKeyPair, type TestKeyPair } from '../../support/keys.ts';
import { startSink, type Sink } from '../../../scripts/lib/sink.ts';
import { startRedis, type RunningRedis } from '../../support/redis.ts';
import { freePort } from '../../support/server.ts';

let root: string;
let sink: Sink;
let staff: TestKeyPair;
let redis: RunningRedis;

/** Runs `node scripts/<name>` with only the given variables (plus PATH), as an operator would. */
function run(script: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join('scripts', script), ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scripts-test-'));
  sink = await startSink();
  staff = await eccKeyPair();
  await writeFile(join(root, 'staff.asc'), staff.publicKey);
  // Resolves once it answers PING.
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
  await sink.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  sink.requests.length = 0;
  sink.mode = 'ok';
});

function mailEnv(outbox: string): Record<string, string> {
  return {
    STAFF_PGP_KEYS_FILE: join(root, 'staff.asc'),
    RESEND_API_KEY: 're_script',
    RESEND_BASE_URL: sink.url,
    MAIL_FROM: 'intake@example.org',
    STAFF_EMAILS: 'staff@example.org',
    OUTBOX_DIR: outbox,
  };
}

describe('npm run outbox:flush', () => {
  it('delivers what waits and prints references only', async () => {
    const dir = join(root, 'flush-outbox');
    const key = await openpgp.readKey({ armoredKey: staff.publicKey });
    for (const reference of ['PUSH-2222', 'PUSH-3333']) {
      await createOutbox(dir).keep(await encryptApplication(
        { reference, kind: 'help', createdAt: new Date().toISOString(), text: 'СЕКРЕТНЫЙ-ТЕКСТ', photos: [] },
        [key],
      ));
    }
    const result = await run('outbox-flush.mjs', mailEnv(dir));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('delivered 2: PUSH-2222, PUSH-3333\nwaiting 0\n');
    expect(result.stdout + result.stderr).not.toContain('СЕКРЕТНЫЙ');
    expect(sink.requests.map((r) => r.headers['idempotency-key'])).toEqual(['PUSH-2222', 'PUSH-3333']);
  });

  it('reports what is still waiting when the provider fails, and exits 0', async () => {
    const dir = join(root, 'flush-failing');
    const key = await openpgp.readKey({ armoredKey: staff.publicKey });
    await createOutbox(dir).keep(await encryptApplication(
      { reference: 'STAY-2222', kind: 'missing', createdAt: new Date().toISOString(), text: 'x', photos: [] },
      [key],
    ));
    sink.mode = 'fail';
    const result = await run('outbox-flush.mjs', mailEnv(dir));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('delivered 0\nwaiting 1: STAY-2222\n');
  });

  it('exits 1 on an invalid configuration, naming the variable', async () => {
    const result = await run('outbox-flush.mjs', { PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('PORT: must be a whole number');
  });
});

describe('npm run doctor', () => {
  it('passes a sound configuration, pinging the real Redis, and sends a test mail staff can open', async () => {
    const env = { ...mailEnv(join(root, 'doctor-outbox')), REDIS_URL: redis.url };
    const result = await run('doctor.mjs', env, ['--send-test']);
    expect(result.stdout).not.toContain('✗');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✓ key ${staff.fingerprint} eddsaLegacy`);
    expect(result.stdout).toContain('✓ test encryption to 1 key(s)');
    expect(result.stdout).toContain(`✓ rate limits: Redis at 127.0.0.1:${redis.port} answers PING`);
    expect(result.stdout).toMatch(/✓ outbox .* writable, 0 envelope\(s\) waiting/);
    expect(sink.requests).toHaveLength(1);
    const body = sink.requests[0]!.body as { subject: string; text: string };
    expect(body.subject).toMatch(new RegExp(`^Проверка ${REFERENCE_SHAPE}$`));
    const reference = body.subject.slice('Проверка '.length);
    const gpg = await createGpgHome();
    try {
      await gpg.importKey(staff.privateKey);
      expect((await gpg.decrypt(body.text)).toString('utf8')).toContain(`Проверка доставки ${reference}`);
    } finally {
      await gpg.cleanup();
    }
  });

  it('fails on an expired key, an unreachable Redis and an unwritable outbox', async () => {
    const expired = await eccKeyPair({ date: new Date(Date.now() - 3 * 86_400_000), keyExpirationTime: 86_400 });
    await writeFile(join(root, 'expired.asc'), expired.publicKey);
    await writeFile(join(root, 'a-file'), '');
    const result = await run('doctor.mjs', {
      ...mailEnv(join(root, 'a-file', 'outbox')),
      STAFF_PGP_KEYS_FILE: join(root, 'expired.asc'),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✗ STAFF_PGP_KEYS_FILE (${join(root, 'expired.asc')}): key ${expired.fingerprint} expired on`);
    expect(result.stdout).toMatch(/✗ rate limits: Redis at .* unreachable: ECONNREFUSED/);
    expect(result.stdout).toMatch(/✗ outbox .* not writable: ENOTDIR/);
  });

  it('names every invalid variable and exits 1', async () => {
    const result = await run('doctor.mjs', { APP_ENV: 'production', STAFF_PGP_KEYS_FILE: join(root, 'staff.asc') });
    expect(result.code).toBe(1);
    for (const variable of ['RESEND_API_KEY', 'STAFF_EMAILS', 'MAIL_FROM', 'RATE_LIMIT_SECRET']) {
      expect(result.stdout).toContain(`✗ ${variable}: is required`);
    }
  });
});

describe('npm run doctor and outbox:flush with OUTBOX_STORE=redis', () => {
  it('the doctor fails a Redis that would lose what it acknowledged, saying what to change', async () => {
    const env = { ...mailEnv(join(root, 'unused')), REDIS_URL: redis.url, OUTBOX_STORE: 'redis' };
    const result = await run('doctor.mjs', env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ outbox: Redis at 127\.0\.0\.1:\d+: appendonly is no: .*appendonly yes and appendfsync always/);
  });

  it('with a durable Redis, the doctor passes and a flush delivers what a stopped instance left', async () => {
    const durable = await startRedis({ durable: true });
    const client = openRedisConnection(durable.url);
    try {
      await vi.waitFor(() => expect(client.status).toBe('ready'), { timeout: 10_000 });
      const env = { ...mailEnv(join(root, 'unused')), REDIS_URL: durable.url, OUTBOX_STORE: 'redis' };
      const doctor = await run('doctor.mjs', env);
      expect(doctor.stdout).not.toContain('✗');
      expect(doctor.stdout).toContain(`✓ outbox: Redis at 127.0.0.1:${durable.port} keeps what it acknowledges`);
      // An instance kept one and stopped before mailing it (its entries handed back on the way out).
      const instance = createStreamOutbox({ client, claimIdleMs: 60_000 });
      await instance.ensureGroup();
      const key = await openpgp.readKey({ armoredKey: staff.publicKey });
      await instance.keep(await encryptApplication({ reference: 'QWTT-2222', kind: 'help', createdAt: new Date().toISOString(), text: 'СЕКРЕТНЫЙ-ТЕКСТ', photos: [] }, [key]));
      await instance.release();
      const result = await run('outbox-flush.mjs', env);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('delivered 1: QWTT-2222\nwaiting 0\nin the Redis stream: 0 waiting, 0 unreadable (kept in intake:outbox:dead)\n');
      expect(result.stdout + result.stderr).not.toContain('СЕКРЕТНЫЙ');
      expect(sink.requests.map((r) => r.headers['idempotency-key'])).toEqual(['QWTT-2222']);
    } finally {
      client.disconnect();
      await durable.stop();
    }
  });
});
