import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type Db, type DialectName } from '../../../db';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { userCountsRefresh } from '../../../lib/admin/user-counts';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { systemClock } from '../../../lib/clock';
import { startMailWorker, type RunningWorker } from '../../../lib/mail/worker';
import { metricsAnswer } from '../../../lib/metrics/endpoint';
import { metrics } from '../../../lib/metrics/registry';
import { installServerScrapeSources } from '../../../lib/metrics/scrape-sources';
import { replaceProcessSingleton } from '../../../lib/process-singletons';
import { freePort } from '../../support/local-processes';
import { admin, seed } from '../mail/support/world';
import { dialects, freshDb } from '../support/dialects';

/*
 * The gauges and counters that need a real database, on both dialects: the outbox backlog as
 * the mail worker's round sees it, database failures (and what is not one), the users per
 * status read from the console's cached count, never counted per scrape. Persona: the
 * operator's Prometheus, scraping with the token.
 */
const token = 'metrics-test-token-0123456789abcdef0123';
const env = { PORTCULLIS_METRICS_TOKEN: token };
const scrape = async () => {
  const answer = await metricsAnswer(`Bearer ${token}`, env);
  expect(answer.status).toBe(200);
  return answer.body;
};
/** The value of one series in the scrape, or undefined when absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe.each(dialects)('metrics from the database on %s', (dialect: DialectName) => {
  let db: Db | undefined;
  let worker: RunningWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await db?.close();
    db = undefined;
  });

  it('the outbox depth and oldest age come from the mail worker’s round, and deliveries are counted by outcome', async () => {
    const opened = (db = await freshDb(dialect));
    const ids = await seed(opened, systemClock, [{ username: 'ada' }, { username: 'bob' }]);
    await requireMfaForUsers(opened.kysely, { userIds: [ids.ada!, ids.bob!] }, admin, systemClock);
    const retriesBefore = sample(await scrape(), 'portcullis_mail_deliveries_total{outcome="retry"}') ?? 0;
    // An SMTP server that is down: both "period started" messages stay pending, to retry.
    const down = { via: 'smtp' as const, send: async () => Promise.reject(new Error('connect ECONNREFUSED')), close() {} };
    metrics().outboxLookedAt = undefined;
    worker = startMailWorker(
      { db: opened, transport: down, clock: systemClock, config: { origin: 'http://127.0.0.1', from: 'p@example.com', reminderOffsetsMs: [] }, log: () => undefined },
      { pollMs: 60_000 },
    );
    const started = worker.lastRoundAt();
    while (worker.lastRoundAt() === started) await new Promise((r) => setTimeout(r, 20));
    const text = await scrape();
    expect(sample(text, 'portcullis_mail_outbox_depth')).toBe(2);
    const age = sample(text, 'portcullis_mail_outbox_oldest_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    expect(sample(text, 'portcullis_mail_deliveries_total{outcome="retry"}')).toBe(retriesBefore + 2);
    expect(sample(text, 'portcullis_mail_worker_last_round_age_seconds')).toBeUndefined(); // not the server's worker
  });

  it('counts a failed statement and a refused connection as database errors, never a unique clash', async () => {
    const opened = (db = await freshDb(dialect));
    const count = async (kind: 'query' | 'connect') => sample(await scrape(), `portcullis_database_errors_total{dialect="${dialect}",kind="${kind}"}`) ?? 0;
    const queries = await count('query');
    await createUser(opened.kysely, { username: 'cleo', password: 'a long enough passphrase' }, cliActor, systemClock);
    await expect(createUser(opened.kysely, { username: 'cleo', password: 'a long enough passphrase' }, cliActor, systemClock)).rejects.toThrow();
    expect(await count('query')).toBe(queries);
    await expect(sql`select * from no_such_table`.execute(opened.kysely)).rejects.toThrow();
    expect(await count('query')).toBe(queries + 1);
    if (dialect === 'postgres') {
      const connects = await count('connect');
      const nowhere = createDb(`postgres://postgres@127.0.0.1:${await freePort()}/portcullis`);
      await expect(sql`select 1`.execute(nowhere.kysely)).rejects.toThrow();
      await nowhere.close();
      expect(await count('connect')).toBe(connects + 1);
    }
  });

  it('the users per status come from the cached count: cold at first, then one count in the background, not one per scrape', async () => {
    const opened = (db = await freshDb(dialect));
    const ids = await seed(opened, systemClock, [{ username: 'dana' }, { username: 'eve' }, { username: 'finn', state: 'staged' }]);
    await requireMfaForUsers(opened.kysely, { userIds: [ids.dana!, ids.finn!] }, admin, systemClock);
    // The server's database, as getDb() hands it out.
    replaceProcessSingleton('db', Promise.resolve(opened));
    installServerScrapeSources();
    const cold = await scrape();
    expect(sample(cold, 'portcullis_user_counts_cached')).toBe(0);
    expect(cold).not.toContain('portcullis_users{');
    const counting = userCountsRefresh(opened.kysely);
    expect(counting).not.toBeNull();
    await counting;
    const warm = await scrape();
    expect(sample(warm, 'portcullis_user_counts_cached')).toBe(1);
    expect(sample(warm, 'portcullis_users{status="enrollment_period"}')).toBe(1);
    expect(sample(warm, 'portcullis_users{status="not_enrolled"}')).toBe(1);
    expect(sample(warm, 'portcullis_users{status="pre_enrollment"}')).toBe(1);
    expect(sample(warm, 'portcullis_user_counts_age_seconds')).toBeLessThan(60);
    // A fresh count is served as is: this scrape started none.
    expect(userCountsRefresh(opened.kysely)).toBeNull();
  });
});
