// npm run outbox:flush — one delivery pass over the encrypted outbox, for operators and cron.
// Prints counts and reference codes only: the outbox holds ciphertext, and nothing else is shown.
// Exit 0 whatever was delivered (waiting envelopes are normal); 1 if the configuration is invalid
// or the outbox can not be read.
import { ConfigError, loadConfig } from '../src/intake/server/config.ts';
import { createMailer, isOutboxOnly } from '../src/intake/server/delivery/mailer.ts';
import { createLogger, errorCode } from '../src/intake/server/logger.ts';
import { createOutbox } from '../src/intake/server/delivery/outbox.ts';
import { flushOutbox } from '../src/intake/server/delivery/retry.ts';

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
const outbox = createOutbox(config.outboxDir);
const mailer = createMailer(config);
// The JSON event log goes to stderr, so stdout stays the short report below.
const logger = createLogger(process.stderr);

try {
  const { delivered, waiting } = await flushOutbox({ outbox, mailer, logger });
  const list = (refs) => (refs.length > 0 ? `: ${refs.join(', ')}` : '');
  console.log(`delivered ${delivered.length}${list(delivered)}`);
  console.log(`waiting ${waiting.length}${list(waiting)}`);
  if (isOutboxOnly(mailer)) {
    console.log(`outbox only (no RESEND_API_KEY): encrypted files stay in ${outbox.dir}`);
  }
} catch (error) {
  console.error(`can not read the outbox ${outbox.dir}: ${errorCode(error)}`);
  process.exit(1);
}
