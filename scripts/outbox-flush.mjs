// npm run outbox:flush — one delivery pass over the encrypted outbox, for operators and cron.
// Prints counts and reference codes only: the outbox holds ciphertext, and nothing else is shown.
// Exit 0 whatever was delivered (waiting envelopes are normal); 1 if the configuration is invalid
// or the outbox can not be read.
import { ConfigError, loadConfig } from '../src/intake/server/config.ts';
import { createMailer, isOutboxOnly } from '../src/intake/server/delivery/mailer.ts';
import { createLogger, errorCode } from '../src/intake/server/logger.ts';
import { openOutboxStore } from '../src/intake/server/delivery/outbox-store.ts';

function loadOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const config = loadOrExit();
const mailer = createMailer(config);
// The JSON event log goes to stderr, so stdout stays the short report below.
const logger = createLogger(process.stderr);
// OUTBOX_STORE: the files, or the Redis stream (this pass is then one more consumer, for a moment).
const store = await openOutboxStore(config, logger, { requireDurable: false });
const { outbox } = store;

try {
  const { delivered, waiting } = await store.flush(mailer, logger);
  const list = (refs) => (refs.length > 0 ? `: ${refs.join(', ')}` : '');
  console.log(`delivered ${delivered.length}${list(delivered)}`);
  console.log(`waiting ${waiting.length}${list(waiting)}`);
  if (isOutboxOnly(mailer)) {
    console.log(`outbox only (no RESEND_API_KEY): encrypted files stay in ${outbox.dir}`);
  }
  if (config.outboxStore === 'redis') {
    const { waiting: left, dead } = await store.counts();
    console.log(`in the Redis stream: ${left} waiting, ${dead} unreadable (kept in intake:outbox:dead)`);
  }
} catch (error) {
  console.error(`can not read the outbox ${outbox.dir}: ${errorCode(error)}`);
  process.exitCode = 1;
} finally {
  await store.close();
}
// A refused ioredis connection keeps a timer alive for a while after disconnect().
process.exit(process.exitCode ?? 0);
