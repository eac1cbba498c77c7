// npm run doctor [-- --send-test] — checks the configuration as the server would, one line per
// check (✓ fine, ! worth knowing, ✗ fatal), and exits 1 if anything fatal was found.
// --send-test encrypts a test message to the staff keys and sends it through the mailer.
import { Redis as Upstash } from '@upstash/redis';
import IORedis from 'ioredis';
import { ConfigError, describeConfig, loadConfig } from '../src/intake/server/config.ts';
import { createResendMailer } from '../src/intake/server/delivery/mailer.ts';
import { encryptApplication } from '../src/intake/server/encrypt.ts';
import { describeKey, EXPIRY_WARNING_DAYS, loadStaffKeys } from '../src/intake/server/keys/staff.ts';
import { createMemoryLogger } from '../src/intake/server/logger.ts';
import { createOutbox, probeOutboxDir } from '../src/intake/server/delivery/outbox.ts';
import { claimIdleMs } from '../src/intake/server/delivery/outbox-store.ts';
import { createStreamOutbox } from '../src/intake/server/delivery/stream-outbox.ts';
import { checkDurability } from '../src/intake/server/store/durability.ts';
import { newReference } from '../src/intake/contract/reference.ts';

const TIMEOUT_MS = 3000;
let fatal = false;
const ok = (text) => console.log(`✓ ${text}`);
const note = (text) => console.log(`! ${text}`);
const fail = (text) => {
  fatal = true;
  console.log(`✗ ${text}`);
};
const reason = (error) => error?.code ?? error?.message ?? String(error);

function checkConfig() {
  try {
    const config = loadConfig();
    ok(`configuration: ${describeConfig(config)}`);
    if (config.rateLimitSecretGenerated) note('RATE_LIMIT_SECRET unset: a random one per process (fine for development only)');
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) fail(problem);
    return null;
  }
}

async function checkKeys(config) {
  let staff;
  try {
    staff = await loadStaffKeys(config, createMemoryLogger());
  } catch (error) {
    for (const problem of error instanceof ConfigError ? error.problems : [reason(error)]) fail(problem);
    return null;
  }
  const soon = Date.now() + EXPIRY_WARNING_DAYS * 86_400_000;
  for (const key of staff.keys) {
    const d = await describeKey(key);
    const line = `key ${d.fingerprint} ${d.algorithm}, created ${d.created.slice(0, 10)}, expires ${d.expires?.slice(0, 10) ?? 'never'}`;
    if (d.expires !== null && Date.parse(d.expires) < soon) note(`${line}: expires within ${EXPIRY_WARNING_DAYS} days, renew it`);
    else ok(line);
  }
  if (staff.source === 'dev') note(`development keys from ${config.devKeysDir}: never use them for real applications`);
  try {
    const envelope = await encryptApplication(testApplication(), staff.keys);
    ok(`test encryption to ${staff.keys.length} key(s): ${envelope.armored.length} bytes of ciphertext`);
    return staff;
  } catch (error) {
    fail(`test encryption failed: ${reason(error)}`);
    return null;
  }
}

function checkMail(config) {
  if (config.mail === undefined) {
    const line = `mail: outbox only (no RESEND_API_KEY); applications stay in ${config.outboxDir}`;
    if (config.production) fail(line);
    else note(line);
    return;
  }
  const { from, to, baseUrl } = config.mail;
  const via = baseUrl === undefined ? 'Resend' : `Resend API at ${new URL(baseUrl).host}`;
  ok(`mail: ${via}, from ${from} to ${to.join(', ')}`);
}

/** Resolves with what `promise` gives, or rejects after the doctor's short timeout. */
function withTimeout(promise) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
  ]);
}

async function checkStore(config) {
  const store = config.store;
  if (store.kind === 'memory') {
    const line = 'rate limits: in-process memory (limits apply per process)';
    if (config.production) note(line);
    else ok(line);
    return;
  }
  // Hosts only: URLs may carry passwords.
  const host = new URL(store.url).host;
  try {
    if (store.kind === 'redis') await pingRedis(store.url);
    else await withTimeout(new Upstash({ url: store.url, token: store.token, retry: false, enableTelemetry: false }).ping());
    ok(`rate limits: ${store.kind === 'redis' ? 'Redis' : 'Upstash Redis'} at ${host} answers PING`);
  } catch (error) {
    fail(`rate limits: ${store.kind === 'redis' ? 'Redis' : 'Upstash Redis'} at ${host} unreachable: ${reason(error)}`);
  }
}

async function pingRedis(url) {
  const redis = await connectRedis(url);
  redis.disconnect();
}

/** A connection that gives up at once, or the reason it could not connect. */
async function connectRedis(url) {
  const redis = new IORedis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis reports the cause (ECONNREFUSED...) as an event and rejects with a vaguer error.
  let cause;
  redis.on('error', (error) => (cause = error));
  try {
    await withTimeout(redis.connect().then(() => redis.ping()));
    return redis;
  } catch (error) {
    redis.disconnect();
    throw cause ?? error;
  }
}

// OUTBOX_STORE=redis: "received" is said once Redis has answered, so Redis must have it on disk
// by then (appendonly yes, appendfsync always), and must never evict it.
async function checkRedisOutbox(config) {
  const host = new URL(config.store.url).host;
  let redis;
  try {
    redis = await connectRedis(config.store.url);
  } catch (error) {
    return fail(`outbox: Redis at ${host} unreachable: ${reason(error)}`);
  }
  try {
    const { verdict, findings } = await withTimeout(checkDurability(redis));
    if (verdict === 'durable') ok(`outbox: Redis at ${host} keeps what it acknowledges (appendonly yes, appendfsync always, no eviction of all keys)`);
    for (const finding of findings) (verdict === 'not_durable' ? fail : note)(`outbox: Redis at ${host}: ${finding}`);
    const outbox = createStreamOutbox({ client: redis, claimIdleMs: claimIdleMs(config.mail?.timeoutMs ?? 15_000) });
    const { waiting, dead } = await withTimeout(outbox.counts());
    ok(`outbox: ${waiting} application(s) waiting in the Redis stream`);
    if (dead > 0) fail(`outbox: ${dead} envelope(s) could not be read back (stream intake:outbox:dead; their keys are kept): look at them before anything else`);
  } catch (error) {
    fail(`outbox: Redis at ${host} did not answer the checks: ${reason(error)}`);
  } finally {
    redis.disconnect();
  }
}

async function checkOutbox(config) {
  if (config.outboxStore === 'redis') return checkRedisOutbox(config);
  try {
    // The very check GET /healthz makes: a file written and fsync'd as keeping does.
    await probeOutboxDir(config.outboxDir);
    const waiting = await createOutbox(config.outboxDir).list();
    ok(`outbox ${config.outboxDir} writable, ${waiting.length} envelope(s) waiting`);
  } catch (error) {
    fail(`outbox ${config.outboxDir} not writable: ${reason(error)}`);
  }
}

// A real reference, as the server draws them: encryptApplication, the outbox and the logger take no other.
// The subject ("Проверка") and the text say it is a test.
function testApplication() {
  const reference = newReference();
  const createdAt = new Date().toISOString();
  return { reference, kind: 'help', createdAt, text: `Проверка доставки ${reference}, ${createdAt}. Это тест, не заявка.`, photos: [] };
}

async function sendTest(config, staff) {
  if (config.mail === undefined) return fail('test mail: no RESEND_API_KEY, nothing to send through');
  if (staff === null) return fail('test mail: no usable staff key');
  const envelope = await encryptApplication(testApplication(), staff.keys);
  const mailer = createResendMailer({ ...config.mail, subject: (e) => `Проверка ${e.reference}` });
  const result = await mailer.send(envelope);
  if (result.ok) ok(`test mail "Проверка ${envelope.reference}" accepted (id ${result.id}): check the staff inboxes`);
  else fail(`test mail "Проверка ${envelope.reference}" refused: ${result.error}`);
}

const config = checkConfig();
if (config !== null) {
  const staff = await checkKeys(config);
  checkMail(config);
  await checkStore(config);
  await checkOutbox(config);
  if (process.argv.includes('--send-test')) await sendTest(config, staff);
}
console.log(fatal ? '\nFatal problems found: the server must not run like this.' : '\nNo fatal problem found.');
// Exit now: a refused ioredis connection keeps a timer alive for a while after disconnect().
process.exit(fatal ? 1 : 0);
