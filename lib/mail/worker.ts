import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../../db';
import {
  anyMessageDue,
  claimNextMessage,
  enrollmentPeriodOpen,
  markMessageSent,
  markMessageUnsent,
  releaseClaims,
  type OutboxRow,
  type Rendered,
} from '../../db/queries/mail';
import { graceWindowOpen } from '../../db/queries/policy-grace';
import { loadMfaSettings } from '../../db/queries/settings';
import { oneHour, oneMinute, systemClock, type Clock } from '../clock';
import { readMailConfig, type MailConfig } from './config';
import { countingFactorTypes } from '../factors/counting';
import { skipReasons } from './enqueue';
import { scheduleDueMessages, type ScheduleReport } from './scheduler';
import { queueEnrollmentStartedMessages } from './start-notices';
import { renderMail, storedMessage, type AccountTokenResolver, type MailMessage } from './templates';
import { accountLinkStateById, accountTokenOf, mailableAccountToken } from '../auth/account-tokens';
import { messageIdFor, transportFor, type MailTransport } from './transport';
import { isPermanentDeliveryError } from '../errors/brand';
import { existingProcessSingleton, forgetProcessSingleton, replaceProcessSingleton } from '../process-singletons';
import { log as logger } from '../log';
import { countMailDelivery } from '../metrics/record';
import { refreshOutboxGauges } from '../metrics/outbox-gauges';

/**
 * The worker: claims due messages one at a time with a lease, sends them, and marks the
 * outcome; between rounds it queues "period started" messages (start-notices.ts) and runs the
 * scheduler (reminders, expiry notices). It runs inside the server (instrumentation.ts) and
 * as its own process (`npm run worker`); any number may run against one database.
 *
 * Delivery is at-least-once with a narrow duplicate window, never at-most-once:
 * - A message is claimed by one conditional UPDATE (db/queries/mail.ts claimNextMessage),
 *   so two workers never hold it at once.
 * - NOTE: the duplicate window. SMTP has no idempotency. If a worker dies (or loses the
 *   database) after the server answered 250 to DATA but before "sent" is written, the row
 *   stays `sending` until its lease ends, and then another worker sends it again. The
 *   window is kept small: "sent" is written right after the 250, by primary key, with a
 *   few retries; the lease (5 min) outlasts every SMTP timeout, so a slow send fails
 *   instead of overlapping a second one. A timeout after DATA was sent is the same window
 *   seen from the other side. Every attempt carries the same Message-ID (derived from the
 *   idempotency key), so receivers that de-duplicate by Message-ID drop the second copy.
 * - Failures back off exponentially (30 s doubling, capped at 1 h). After `maxAttempts`
 *   the message is `failed`: kept, shown to admins, resendable (lib/mail/outbox.ts).
 *   A recipient the server refuses outright (5xx to RCPT TO) is `dead` at once.
 */

export const defaultLeaseMs = 5 * oneMinute;
const defaultMaxAttempts = 20;
const firstRetryMs = 30_000;
const maxRetryMs = oneHour;

/** 30 s after the first failed attempt, doubling, at most an hour. */
export function retryDelayMs(attempts: number): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 20);
  return Math.min(firstRetryMs * 2 ** exponent, maxRetryMs);
}

function newWorkerId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export interface WorkerOptions {
  db: Db;
  transport: MailTransport;
  clock: Clock;
  config: Pick<MailConfig, 'origin' | 'from' | 'reminderOffsetsMs'>;
  /** Names this worker in locked_by; unique per worker. */
  workerId?: string;
  leaseMs?: number;
  maxAttempts?: number;
  log?: (line: string) => void;
  /** Derives an invitation or reset link's token from its row id; default: the app secret's HMAC. */
  accountToken?: AccountTokenResolver;
  /** Asked before each message is claimed: false ends the round (a stopping worker takes nothing new). */
  keepGoing?: () => boolean;
  /** The secrets a link's token is found under (newest first); default: PORTCULLIS_SECRET's. */
  appSecrets?: readonly string[];
}

export type DeliveryOutcome = 'sent' | 'retry' | 'failed' | 'dead' | 'skipped' | 'lost_lease';

export interface DeliveryReport {
  sent: number;
  retry: number;
  failed: number;
  dead: number;
  skipped: number;
  lost_lease: number;
}

const enrollmentKinds = new Set(['enrollment_started', 'enrollment_reminder', 'enrollment_expired']);

/**
 * Messages about an enrollment period are checked again just before sending: a reminder
 * for a user who enrolled, or whose requirement was cleared or restarted, meanwhile is
 * skipped; so is a "period started" or reminder sent after the period already ended.
 */
async function stillApplies(db: Db, row: OutboxRow, message: MailMessage, now: number): Promise<boolean> {
  // A link that was used, replaced by a newer one, or expired is not worth a message.
  if (message.kind === 'invitation' || message.kind === 'password_reset') {
    return (await accountLinkStateById(db.kysely, message.params.tokenId, now)).state === 'open';
  }
  if (!enrollmentKinds.has(row.kind) || row.user_id === null) return true;
  const periodEndsAt = (message.params as { periodEndsAt?: number }).periodEndsAt;
  if (typeof periodEndsAt !== 'number') return true;
  if (message.kind !== 'enrollment_expired' && now >= periodEndsAt) return false;
  const counting = countingFactorTypes(await loadMfaSettings(db.kysely));
  if (counting === null) return false;
  if (await enrollmentPeriodOpen(db.kysely, row.user_id, periodEndsAt, counting)) return true;
  // Issue 18 part 6: or a policy's grace window ending then (its started message and reminders).
  return message.kind !== 'enrollment_expired' && graceWindowOpen(db.kysely, row.user_id, periodEndsAt, counting);
}

async function withRetries<T>(fn: () => Promise<T>, tries = 3, pauseMs = 500): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, pauseMs * i));
    }
  }
}

/** Claims and delivers one due message; null when none is due. */
async function deliverOne(opts: WorkerOptions & { workerId: string }): Promise<DeliveryOutcome | null> {
  const { db, clock, transport, workerId } = opts;
  const log = opts.log ?? ((line: string) => logger.warn(line));
  const leaseMs = opts.leaseMs ?? defaultLeaseMs;
  const maxAttempts = opts.maxAttempts ?? defaultMaxAttempts;
  const claimedAt = clock.now();
  const row = await claimNextMessage(db.kysely, db.dialect, { workerId, now: claimedAt, leaseUntil: claimedAt + leaseMs });
  if (!row) return null;

  const finish = async (
    status: 'pending' | 'failed' | 'dead' | 'skipped',
    error: string,
    rendered: Rendered | null,
  ): Promise<DeliveryOutcome> => {
    const now = clock.now();
    const kept = await withRetries(() =>
      markMessageUnsent(db.kysely, {
        id: row.id,
        workerId,
        now,
        status,
        nextAttemptAt: status === 'pending' ? now + retryDelayMs(row.attempts) : null,
        error,
        rendered,
      }),
    );
    if (!kept) return 'lost_lease';
    return status === 'pending' ? 'retry' : status;
  };

  // Claimed more often than allowed without an outcome: workers keep dying on it.
  if (row.attempts > maxAttempts) return finish('failed', 'gave up: the workers holding it stopped before finishing', null);

  let message: MailMessage;
  try {
    message = storedMessage(row.kind, row.params);
  } catch (err) {
    return finish('dead', `unreadable message: ${(err as Error).message}`, null);
  }
  if (!row.to_address) return finish('skipped', skipReasons.noAddress, null);
  if (!(await stillApplies(db, row, message, claimedAt))) return finish('skipped', skipReasons.obsolete, null);

  let accountToken = opts.accountToken ?? ((id: string) => accountTokenOf(id));
  if (!opts.accountToken && (message.kind === 'invitation' || message.kind === 'password_reset')) {
    // The secret whose token the row stores, not just the newest: a rotation since the link
    // was issued must not void it. None (a rolling restart, or its secret was dropped): retry,
    // another instance may have it; in the end it fails and an admin sends a new link.
    const token = await mailableAccountToken(db.kysely, message.params.tokenId, opts.appSecrets);
    if (token === null) {
      const reason = 'no secret in PORTCULLIS_SECRET makes this link (issued under a secret not listed here)';
      log(`[portcullis] mail ${row.id} (${row.kind}): ${reason}`);
      return finish(row.attempts >= maxAttempts ? 'failed' : 'pending', reason, null);
    }
    accountToken = () => token;
  }
  const body = renderMail(message, opts.config.origin, { accountToken });
  // The outbox keeps the bodies with secret links withheld: an admin reading it never gets one.
  const rendered: Rendered = { text: body.storedText, html: body.storedHtml, messageId: messageIdFor(row.idempotency_key, opts.config.origin) };
  try {
    await transport.send({
      from: opts.config.from,
      to: row.to_address,
      subject: row.subject,
      text: body.text,
      html: body.html,
      messageId: rendered.messageId,
      kind: row.kind,
      loggableLinks: body.loggableLinks,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (isPermanentDeliveryError(err)) {
      log(`[portcullis] mail ${row.id} (${row.kind}) refused for good: ${reason}`);
      return finish('dead', reason, rendered);
    }
    const giveUp = row.attempts >= maxAttempts;
    log(
      `[portcullis] mail ${row.id} (${row.kind}) attempt ${row.attempts} failed: ${reason}` +
        (giveUp ? '; giving up (failed, an admin can resend it)' : `; retrying in ${Math.round(retryDelayMs(row.attempts) / 1000)} s`),
    );
    return finish(giveUp ? 'failed' : 'pending', reason, rendered);
  }

  // The duplicate window is from the server's 250 to this update committing: keep it short.
  const marked = await withRetries(() =>
    markMessageSent(db.kysely, { id: row.id, workerId, now: clock.now(), via: transport.via, rendered }),
  );
  if (!marked) {
    log(`[portcullis] mail ${row.id}: sent, but the lease had passed to another worker (it may be sent twice)`);
    return 'lost_lease';
  }
  return 'sent';
}

/** What one round queued: "period started" messages (skipped ones included), reminders, expiry notices. */
export interface RoundSchedule extends ScheduleReport {
  started: number;
}

/**
 * One worker round, and the one place "period started" messages are queued: those still
 * held as marks on their requirements go first, every round (2 s), not with the minutely
 * scheduler, since a user told to set up MFA now should hear of it now. Then the scheduler
 * when `schedule` is set, then delivery of everything due.
 */
async function round(opts: WorkerOptions, schedule: boolean, limit: number): Promise<{ scheduled: RoundSchedule; delivered: DeliveryReport }> {
  const started = await queueEnrollmentStartedMessages(opts.db.kysely, opts.clock);
  const due = schedule
    ? await scheduleDueMessages(opts.db.kysely, opts.clock, { reminderOffsetsMs: opts.config.reminderOffsetsMs })
    : { reminders: 0, expired: 0 };
  const delivered = await deliverQueued(opts, limit);
  return { scheduled: { started: started.queued + started.skipped, ...due }, delivered };
}

/** A round without the scheduler: queue "period started" messages, then deliver until none is left (or `limit` were handled). */
export async function deliverDueMessages(opts: WorkerOptions, limit = 1_000): Promise<DeliveryReport> {
  return (await round(opts, false, limit)).delivered;
}

/** A round with the scheduler: "period started" messages, reminders and expiry notices, then delivery. */
export async function runMailTick(opts: WorkerOptions): Promise<{ scheduled: RoundSchedule; delivered: DeliveryReport }> {
  return round(opts, true, 1_000);
}

async function deliverQueued(opts: WorkerOptions, limit: number): Promise<DeliveryReport> {
  const workerId = opts.workerId ?? newWorkerId();
  const report: DeliveryReport = { sent: 0, retry: 0, failed: 0, dead: 0, skipped: 0, lost_lease: 0 };
  for (let handled = 0; handled < limit; handled++) {
    if (opts.keepGoing && !opts.keepGoing()) break;
    if (!(await anyMessageDue(opts.db.kysely, opts.clock.now()))) break;
    const outcome = await deliverOne({ ...opts, workerId });
    if (outcome === null) break;
    report[outcome]++;
    countMailDelivery(outcome);
  }
  return report;
}

export interface RunningWorker {
  readonly workerId: string;
  /** When the last round finished, or the worker started before its first (performance.now() ms): readiness (lib/health). */
  lastRoundAt(): number;
  /** Runs a round now instead of at the next poll. */
  wake(): void;
  /**
   * Takes nothing new, finishes the message in hand, then stops. With `withinMs`, waits that
   * long at most: a message still in hand then (a mail server that does not answer) goes
   * back to pending, due at once, for another worker (or this one after a restart).
   */
  stop(options?: StopOptions): Promise<StopReport>;
}

export interface StopOptions {
  withinMs?: number;
}

export interface StopReport {
  /** The message in hand was finished within the time given (or there was none). */
  finished: boolean;
  /** Messages still claimed by this worker when it stopped, given back for another to send. */
  released: number;
}

export interface LoopOptions {
  /** How often to look for due messages. */
  pollMs?: number;
  /** How often to run the scheduler. */
  scheduleEveryMs?: number;
}

const defaultPollMs = 2_000;
const defaultScheduleEveryMs = oneMinute;

/**
 * Runs the loop until stop(). `db` may be a function (the server's getDb): it is called each
 * round, so a database that is down at start-up is picked up once it answers.
 */
export function startMailWorker(
  opts: Omit<WorkerOptions, 'db'> & { db: Db | (() => Promise<Db>) },
  loop: LoopOptions = {},
): RunningWorker {
  const workerId = opts.workerId ?? newWorkerId();
  const log = opts.log ?? ((line: string) => logger.warn(line));
  const pollMs = loop.pollMs ?? defaultPollMs;
  const scheduleEveryMs = loop.scheduleEveryMs ?? defaultScheduleEveryMs;
  let stopped = false;
  let lastDb: Db | null = null;
  let lastScheduled = -Infinity;
  let lastError = '';
  let lastRoundAt = performance.now();
  let wakeUp: (() => void) | null = null;

  const run = (async () => {
    while (!stopped) {
      try {
        const db = typeof opts.db === 'function' ? await opts.db() : opts.db;
        lastDb = db;
        const options: WorkerOptions = { ...opts, db, workerId, log, keepGoing: () => !stopped };
        // NOTE: pacing uses the process's monotonic time, never the injected clock: the
        // clock says what time it is for the data, not how long to sleep.
        if (performance.now() - lastScheduled >= scheduleEveryMs) {
          await runMailTick(options);
          lastScheduled = performance.now();
        } else {
          await deliverDueMessages(options);
        }
        lastError = '';
        lastRoundAt = performance.now();
        await refreshOutboxGauges(db, opts.clock);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== lastError) log(`[portcullis] mail worker: ${message}; trying again`);
        lastError = message;
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        timer.unref?.();
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    }
  })();

  return {
    workerId,
    lastRoundAt: () => lastRoundAt,
    wake: () => wakeUp?.(),
    async stop(options: StopOptions = {}) {
      stopped = true;
      wakeUp?.();
      const finished = await settlesWithin(run, options.withinMs);
      let released = 0;
      if (lastDb) {
        try {
          released = await releaseClaims(lastDb.kysely, { workerId, now: opts.clock.now() });
        } catch (err) {
          // The lease still ends in time: the message is late, not lost.
          log(`[portcullis] mail worker: could not release its claims (${err instanceof Error ? err.message : String(err)}); they wait for the lease to end`);
        }
      }
      if (released > 0) log(`[portcullis] mail worker ${workerId}: released ${released} claimed message(s) for another worker`);
      opts.transport.close();
      return { finished, released };
    },
  };
}

/** Whether `promise` settles within `ms` (always, when no limit is given). */
async function settlesWithin(promise: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) {
    await promise;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The worker the server starts (instrumentation.ts): one per process, on the server's own
 * database, SMTP when SMTP_URL is set, else the outbox. PORTCULLIS_DISABLE_WORKER=1 turns it
 * off (run `npm run worker` processes instead).
 */
export function startServerMailWorker(
  getDb: () => Promise<Db>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): RunningWorker | null {
  if (env.PORTCULLIS_DISABLE_WORKER === '1') return null;
  const existing = existingProcessSingleton<RunningWorker>('mailWorker');
  if (existing) return existing;
  const config = readMailConfig(env);
  const transport = transportFor(config.smtpUrl);
  const running = startMailWorker({ db: getDb, transport, clock: systemClock, config });
  const worker: RunningWorker = {
    workerId: running.workerId,
    lastRoundAt: running.lastRoundAt,
    wake: running.wake,
    async stop(options) {
      forgetProcessSingleton('mailWorker', worker);
      return running.stop(options);
    },
  };
  replaceProcessSingleton('mailWorker', worker);
  logger.info(`mail worker ${worker.workerId} started: ${describeDelivery(config.smtpUrl)}`);
  return worker;
}

/** "SMTP mail.example.com:587" or the outbox; never the credentials in the URL. */
export function describeDelivery(smtpUrl: string | undefined): string {
  if (!smtpUrl) return 'no SMTP_URL, messages stay in the outbox table (admin console)';
  try {
    const url = new URL(smtpUrl);
    return `${url.protocol.replace(':', '').toUpperCase()} ${url.hostname}${url.port ? `:${url.port}` : ''}`;
  } catch {
    return 'SMTP (unreadable SMTP_URL)';
  }
}
