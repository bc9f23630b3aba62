// `npm run worker`: the mail worker as its own process (lib/mail/worker.ts). Any number may
// run next to the servers; set PORTCULLIS_DISABLE_WORKER=1 on the servers to leave sending
// to these processes alone. Reads the same environment as the server (DATABASE_URL,
// SMTP_URL, PORTCULLIS_ORIGIN, PORTCULLIS_MAIL_FROM, PORTCULLIS_REMINDER_OFFSETS).
import { createDb, migrateToLatest } from '../db';
import { readEnv } from '../lib/config/env';
import { systemClock } from '../lib/clock';
import { readMailConfig } from '../lib/mail/config';
import { transportFor } from '../lib/mail/transport';
import { describeDelivery, startMailWorker } from '../lib/mail/worker';
import { log } from '../lib/log';
import { checkConfigAtStart } from '../lib/config/start-check';

async function main(): Promise<void> {
  // A bad variable ends the process here: one line naming it, exit code 78 (lib/config/start-check.ts).
  const timeoutMs = checkConfigAtStart().shutdownTimeoutSeconds * 1000;
  const db = createDb(readEnv().databaseUrl);
  await migrateToLatest(db);
  const config = readMailConfig();
  const worker = startMailWorker({ db, transport: transportFor(config.smtpUrl), clock: systemClock, config });
  log.info(`mail worker ${worker.workerId} running: ${describeDelivery(config.smtpUrl)}; links to ${config.origin}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`mail worker: ${signal}, finishing the message in hand`);
    // A message still in hand at the deadline goes back to pending for another worker.
    const { released } = await worker.stop({ withinMs: timeoutMs });
    if (released > 0) log.info(`mail worker: released ${released} message(s) for another worker`);
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // The loop's timers are unref'd; this keeps the process alive until a signal.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err) => {
  log.fatal({ err }, 'mail worker could not start');
  process.exit(1);
});
