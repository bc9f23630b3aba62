import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db, type DialectName } from '../../../db';
import { claimNextMessage, markMessageSent } from '../../../db/queries/mail';
import { manualClock, oneDay, oneMinute, systemClock, type Clock } from '../../../lib/clock';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { scheduleDueMessages } from '../../../lib/mail/scheduler';
import { messageIdFor, smtpTransport, type MailTransport } from '../../../lib/mail/transport';
import { defaultLeaseMs, deliverDueMessages, startMailWorker } from '../../../lib/mail/worker';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import { dialects } from '../support/dialects';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { admin, origin, outbox, seed, workerOptions, type Persona } from './support/world';

/*
 * Several workers on one database, as several processes (or servers) would run them: each
 * has its own Db (its own SQLite connection to the same file, its own PostgreSQL pool).
 * Every message reaches the SMTP server exactly once.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const repoRoot = path.resolve(__dirname, '..', '..', '..');

interface Shared {
  url: string;
  dataDir: string;
  open(): Db;
  cleanup(): Promise<void>;
}

/** One fresh database that several Db instances can open. */
async function sharedDatabase(dialect: DialectName): Promise<Shared> {
  const opened: Db[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-mail-'));
  let url: string;
  let drop = async () => {};
  if (dialect === 'sqlite') {
    url = `file:${path.join(dataDir, 'shared.db')}`;
  } else {
    const adminUrl = process.env.TEST_POSTGRES_URL!;
    const name = `pc_mail_${randomBytes(5).toString('hex')}`;
    const run = async (statement: string) => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    };
    await run(`create database ${name}`);
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    drop = () => run(`drop database if exists ${name}`);
  }
  const first = createDb(url, dataDir);
  await migrateToLatest(first);
  opened.push(first);
  return {
    url,
    dataDir,
    open() {
      const db = createDb(url, dataDir);
      opened.push(db);
      return db;
    },
    async cleanup() {
      for (const db of opened) await db.close().catch(() => undefined);
      await drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const people = (n: number): Persona[] => Array.from({ length: n }, (_, i) => ({ username: `user${String(i).padStart(2, '0')}` }));

describe.each(dialects)('several workers on one %s database', (dialect) => {
  let shared: Shared;
  let db1: Db;
  let db2: Db;
  let sink: SmtpSink;
  const transports: MailTransport[] = [];
  const clock = manualClock(start);

  const smtp = () => {
    const t = smtpTransport(sink.url);
    transports.push(t);
    return t;
  };

  /** Requires MFA for `n` new users; their messages are queued too unless `marksOnly` (the workers queue them). */
  async function requireEveryone(n: number, on: Clock = clock, marksOnly = false): Promise<string[]> {
    const ids = Object.values(await seed(db1, on, people(n)));
    await requireMfaForUsers(db1.kysely, { userIds: ids }, admin, on);
    if (!marksOnly) await queueEnrollmentStartedMessages(db1.kysely, on);
    return ids;
  }

  function expectEachOnce(n: number) {
    const messageIds = sink.received.map((m) => m.messageId);
    expect(messageIds).toHaveLength(n);
    expect(new Set(messageIds).size).toBe(n);
    expect(new Set(sink.received.map((m) => m.to[0])).size).toBe(n);
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.stop();
  });
  beforeEach(async () => {
    clock.set(start);
    sink.received.length = 0;
    shared = await sharedDatabase(dialect);
    db1 = shared.open();
    db2 = shared.open();
  });
  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    await shared.cleanup();
  });

  it('two workers draining at the same time send each of 40 messages exactly once', async () => {
    await requireEveryone(40);
    const [a, b] = await Promise.all([
      deliverDueMessages(workerOptions(db1, smtp(), clock, { workerId: 'worker-a' })),
      deliverDueMessages(workerOptions(db2, smtp(), clock, { workerId: 'worker-b' })),
    ]);
    expect(a.sent + b.sent).toBe(40);
    // Both really worked: the test exercises the race, not one worker after the other.
    expect(a.sent).toBeGreaterThan(0);
    expect(b.sent).toBeGreaterThan(0);
    expect(a.lost_lease + b.lost_lease).toBe(0);
    expectEachOnce(40);
    const rows = await outbox(db1);
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(40);
  });

  it('two workers turning the same 600 marks into messages at once queue each message once', async () => {
    await requireEveryone(600, clock, true);
    const [a, b] = await Promise.all([queueEnrollmentStartedMessages(db1.kysely, clock), queueEnrollmentStartedMessages(db2.kysely, clock)]);
    const rows = await outbox(db1);
    expect(rows).toHaveLength(600);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(600);
    // Each counted what it inserted or found queued by the other; together at least every mark.
    expect(a.queued + b.queued).toBeGreaterThanOrEqual(600);
    expect(await db1.kysely.selectFrom('mfa_requirements').select('user_id').where('start_notice', 'is not', null).execute()).toEqual([]);
  });

  it('two running worker loops, polling every 20 ms, send each message once and nothing more', async () => {
    const w1 = startMailWorker({ ...workerOptions(db1, smtp(), clock), workerId: 'loop-a' }, { pollMs: 20 });
    const w2 = startMailWorker({ ...workerOptions(db2, smtp(), clock), workerId: 'loop-b' }, { pollMs: 20 });
    try {
      await requireEveryone(25, clock, true);
      await sink.waitFor(() => sink.received.length >= 25, 20_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300)); // time enough for any second copy to show up
      expectEachOnce(25);
      expect(new Set((await outbox(db1)).map((r) => r.status))).toEqual(new Set(['sent']));
    } finally {
      await Promise.all([w1.stop(), w2.stop()]);
    }
  });

  it('a worker that dies holding a message: the other takes it only after the lease, with the same Message-ID', async () => {
    const [ada] = await requireEveryone(1);
    // Worker A claims the message and dies (say, right after the SMTP server accepted it).
    const claimed = await claimNextMessage(db1.kysely, db1.dialect, { workerId: 'worker-a', now: start, leaseUntil: start + defaultLeaseMs });
    expect(claimed).toMatchObject({ status: 'sending', locked_by: 'worker-a', attempts: 1 });

    expect(await deliverDueMessages(workerOptions(db2, smtp(), clock, { workerId: 'worker-b' }))).toMatchObject({ sent: 0 });
    clock.advance(defaultLeaseMs - 1);
    expect(await deliverDueMessages(workerOptions(db2, smtp(), clock, { workerId: 'worker-b' }))).toMatchObject({ sent: 0 });
    clock.advance(1);
    expect(await deliverDueMessages(workerOptions(db2, smtp(), clock, { workerId: 'worker-b' }))).toMatchObject({ sent: 1 });

    const [row] = await outbox(db1);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, locked_by: null });
    expect(sink.received[0]!.messageId).toBe(messageIdFor(`enrollment_started:${ada}:${start}`, origin));
    // A's late "sent" cannot overwrite B's outcome.
    expect(
      await markMessageSent(db1.kysely, {
        id: row!.id,
        workerId: 'worker-a',
        now: clock.now(),
        via: 'smtp',
        rendered: { text: 'x', html: 'x', messageId: 'x' },
      }),
    ).toBe(false);
  });

  it('a message whose workers keep dying mid-send is given up as failed (resendable), not claimed forever', async () => {
    await requireEveryone(1);
    for (let i = 0; i < 2; i++) {
      expect(await claimNextMessage(db1.kysely, db1.dialect, { workerId: `doomed-${i}`, now: clock.now(), leaseUntil: clock.now() + defaultLeaseMs })).toBeDefined();
      clock.advance(defaultLeaseMs);
    }
    expect(await deliverDueMessages(workerOptions(db2, smtp(), clock, { maxAttempts: 2 }))).toMatchObject({ sent: 0, failed: 1 });
    expect((await outbox(db1))[0]).toMatchObject({ status: 'failed', attempts: 3, locked_by: null });
    expect(sink.received).toHaveLength(0);
  });

  it('two schedulers at the same time queue each reminder once', async () => {
    await requireEveryone(30);
    await deliverDueMessages(workerOptions(db1, smtp(), clock));
    clock.set(start + 4 * oneDay);
    const offsets = { reminderOffsetsMs: [3 * oneDay, oneDay] };
    const [a, b] = await Promise.all([scheduleDueMessages(db1.kysely, clock, offsets), scheduleDueMessages(db2.kysely, clock, offsets)]);
    expect(a.reminders + b.reminders).toBe(30);
    const reminders = (await outbox(db1)).filter((r) => r.kind === 'enrollment_reminder');
    expect(reminders).toHaveLength(30);
  });

  it('`npm run worker` twice, as two processes: each message once, and both stop cleanly on SIGTERM', async () => {
    await requireEveryone(20, systemClock);
    const children: ChildProcess[] = [];
    const logs: string[] = [];
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    for (const name of ['p1', 'p2']) {
      const child = spawn(tsx, ['scripts/worker.ts'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          DATABASE_URL: shared.url,
          PORTCULLIS_DATA_DIR: shared.dataDir,
          SMTP_URL: sink.url,
          PORTCULLIS_ORIGIN: origin,
          // Required with PostgreSQL: the worker checks its configuration at start.
          PORTCULLIS_SECRET: 'concurrency-test-secret-0123456789abcdef',
          NODE_ENV: 'production',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => logs.push(`${name}: ${d}`));
      child.stderr!.on('data', (d: Buffer) => logs.push(`${name}: ${d}`));
      children.push(child);
    }
    try {
      await sink.waitFor(() => sink.received.length >= 20, 45_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 2_500)); // one more poll round of each
      expect(logs.join('')).toContain('mail worker');
      expectEachOnce(20);
    } finally {
      const exits = children.map((c) => new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code))));
      for (const c of children) c.kill('SIGTERM');
      expect(await Promise.all(exits)).toEqual([0, 0]);
    }
    const rows = await outbox(db1);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['sent']));
    expect(rows.every((r) => r.sent_at !== null && Math.abs(r.sent_at - Date.now()) < 5 * oneMinute)).toBe(true);
  }, 90_000);
});
