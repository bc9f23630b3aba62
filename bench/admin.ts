/**
 * The admin users directory at scale, on SQLite and PostgreSQL. Goals: a list page's p95
 * ≤ 5 ms, deep pages ≤ 1.5× the first, bulk Require MFA of 10,000 users ≤ 250 ms.
 *
 *   npx tsx bench/admin.ts                        # 1,000,000 users, both dialects; writes RESULTS.md
 *   npx tsx bench/admin.ts --users 100000         # a quick run; RESULTS.md is left alone
 *   npx tsx bench/admin.ts --dialects sqlite --runs 20
 *
 * Options: --users N (default 1,000,000), --dialects sqlite,postgres, --runs (timed calls per
 * page and filter, default 50), --bulk-runs (default 5), --postgres-url URL (else
 * $BENCH_POSTGRES_URL, else a throwaway cluster from scripts/pg-cluster.sh, stopped at the
 * end), --reseed (rebuild the cached SQLite file), --write / --no-write, --results FILE (write
 * the section there instead). For checking a fix quickly (such runs leave RESULTS.md alone):
 * --only "expired,q=" (list filters whose names contain one of these), --skip counts,bulk,
 * --sqlite-pragmas "cache_size=-131072,…", --pg-options="-c max_parallel_workers_per_gather=0".
 *
 * Seeds N users with a realistic mix of MFA statuses (bench/support/admin-seed.ts; the
 * SQLite file is cached in the OS temp dir between runs) and measures, calling the services
 * the console page and the REST API call:
 * - listUsers() server time for the first page, a deep page (the cursor after 10,000 rows:
 *   page 201 at 50 a page, reached by following nextCursor) and a far page (a cursor at 90% of
 *   the sort order, made with encodeCursor()), with each filter; p50/p95 over --runs calls,
 *   interleaved so drift hits all three alike; the plan of each list statement;
 * - requireMfaForUsers() for 10,000 users: wall time and every statement it runs (Kysely's
 *   `log`), whether they all ran in one transaction on one connection, and the rows written;
 * - countUsersByStatus(): the first call (which counts), the calls a page view makes within the
 *   cache age, and after it: the view served the previous count and the recount behind it;
 * - policyImpact() (issue 18 §5, the preview before a policy goes ON) of an all-users
 *   require-MFA policy (goal ≤ 2 s) and an all-users deny policy: wall time per call, the
 *   statements it ran and their plans (--skip impact leaves it out).
 *
 * Prints one JSON line per measurement and, for a full-size run, rewrites the "## admin"
 * section of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DialectName } from '../db';
import { encodeCursor } from '../lib/admin/cursor';
import { requireMfaForUsers } from '../lib/admin/mfa-requirements';
import { queueEnrollmentStartedMessages } from '../lib/mail/start-notices';
import {
  countUsersByStatus,
  listUsers,
  mfaStatusNames,
  userCountsMaxAgeMs,
  userCountsRefresh,
  type ListUsersInput,
  type UserSummary,
} from '../lib/admin/user-directory';
import { manualClock } from '../lib/clock';
import { policyImpact, type PolicyImpact } from '../lib/admin/policy-impact';
import type { PolicyRecord } from '../lib/policy';
import { openPostgresBench, openSqliteBench, type BenchDb, type StatementRecord } from './support/admin-db';
import { commonSearchTerm, seedNow, seedRow, type SeedSummary } from './support/admin-seed';
import { emit, machineInfo, machineLine, passFail, writeResultsSection } from './support/results';
import { median, percentile, round } from './support/stats';

const GOAL_P95_MS = 5;
const GOAL_DEEP_RATIO = 1.5;
const GOAL_BULK_MS = 250;
const FULL_SIZE = 1_000_000;
const PAGE = 50;
/** How far in the deep page is: 10,000 rows, i.e. page 201 at 50 a page. */
const DEEP_ROWS = 10_000;
const WALK_PAGE = 200;
const FAR_FRACTION = 0.9;
const BULK_USERS = 10_000;
/** A case whose warm-up calls take longer than this is timed fewer times, and says so. */
const SLOW_CALL_MS = 250;
const SLOW_RUNS = 5;
/** Issue 18 §5: the impact preview of an all-users require-MFA policy, per call. */
const GOAL_IMPACT_MS = 2_000;
const IMPACT_RUNS = 5;

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: String(FULL_SIZE) },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    runs: { type: 'string', default: '50' },
    'bulk-runs': { type: 'string', default: '5' },
    'postgres-url': { type: 'string' },
    reseed: { type: 'boolean', default: false },
    // Extra SQLite pragmas, comma-separated ("cache_size=-131072,mmap_size=268435456"): to
    // try a proposed setting; such a run never rewrites RESULTS.md.
    'sqlite-pragmas': { type: 'string' },
    // libpq options for the PostgreSQL pool (--pg-options="-c max_parallel_workers_per_gather=0"): likewise.
    'pg-options': { type: 'string' },
    write: { type: 'boolean' },
    // Only the list filters whose names contain one of these (comma-separated), e.g.
    // "expired,enrollment_period"; and parts to leave out: "counts,bulk". Such runs never
    // rewrite RESULTS.md: they are for checking a fix quickly.
    only: { type: 'string' },
    skip: { type: 'string' },
    // Write the section into another file (a trial run), not bench/RESULTS.md.
    results: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const USERS = Number(args.users.replace(/[_,]/g, ''));
const RUNS = Number(args.runs);
const BULK_RUNS = Number(args['bulk-runs']);
const DIALECTS = args.dialects.split(',').map((d) => d.trim()) as DialectName[];
const SQLITE_PRAGMAS = (args['sqlite-pragmas'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
const ONLY = (args.only ?? '').split(',').map((f) => f.trim()).filter(Boolean);
const SKIP = new Set((args.skip ?? '').split(',').map((f) => f.trim()).filter(Boolean));
const PG_OPTIONS = args['pg-options'];
const PARTIAL = SQLITE_PRAGMAS.length > 0 || PG_OPTIONS !== undefined || ONLY.length > 0 || SKIP.size > 0;
const WRITE = args['no-write'] || PARTIAL ? false : (args.write ?? (USERS === FULL_SIZE && DIALECTS.length === 2));

if (!Number.isInteger(USERS) || USERS < 1_000) throw new Error('--users must be a whole number ≥ 1000');
for (const d of DIALECTS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown dialect ${d}`);

const actor = { id: 'bench-admin-0000-0000-0000-000000000000', label: 'bench.admin', clientIp: '198.51.100.7' };

// ---------------------------------------------------------------------------------------
// List pages

type Position = 'first' | 'deep' | 'far';
const positions: Position[] = ['first', 'deep', 'far'];

interface ListCase {
  name: string;
  input: ListUsersInput;
}

function listCases(rareTerm: string): ListCase[] {
  return [
    { name: 'no filter', input: {} },
    { name: `q="${commonSearchTerm}" (common surname)`, input: { q: commonSearchTerm } },
    { name: `q="${rareTerm}" (one user)`, input: { q: rareTerm } },
    // Usernames start with the first name, so its matches sit in one block of the order.
    { name: `q="${rareTerm.split('.')[0]}" (a first name)`, input: { q: rareTerm.split('.')[0]! } },
    { name: 'required=true', input: { required: true } },
    { name: 'required=false', input: { required: false } },
    ...mfaStatusNames.map((s) => ({ name: `mfaStatus=${s}`, input: { mfaStatus: s } })),
    { name: 'state=suspended', input: { state: 'suspended' as const } },
    { name: 'sort=newest', input: { sort: 'newest' as const } },
  ];
}

interface PositionResult {
  position: Position;
  /** Rows before this page in the filtered list (deep: reached by walking; far: unknown). */
  rowsBefore: number | null;
  rowsReturned: number;
  runs: number;
  p50: number;
  p95: number;
  max: number;
  /** The list statement alone (Kysely's measured duration), p50. */
  sqlP50: number;
  /** CPU time of this process per call (SQLite runs in it; for PostgreSQL it is the client side only). */
  cpuP50: number;
  cpuP95: number;
  statementsPerCall: number;
  plan: string[];
}

interface CaseResult {
  name: string;
  input: ListUsersInput;
  positions: PositionResult[];
  deepRatio: number | null;
  farRatio: number | null;
  pass: boolean;
  note: string | null;
}

const isListStatement = (s: StatementRecord) => /^select\b/i.test(s.sql) && /\bfrom "users"/.test(s.sql) && /\blimit\b/i.test(s.sql);

async function farCursor(db: BenchDb, input: ListUsersInput): Promise<string> {
  const offset = Math.floor(USERS * FAR_FRACTION);
  if (input.sort === 'newest') {
    const [row] = await db.raw<{ created_at: number; id: string }>(
      'select created_at, id from users order by created_at desc, id desc limit 1 offset ' + offset,
    );
    return encodeCursor({ v: 1, s: 'newest', k: [Number(row!.created_at), row!.id] });
  }
  const [row] = await db.raw<{ username_lower: string; id: string }>(
    'select username_lower, id from users order by username_lower, id limit 1 offset ' + offset,
  );
  return encodeCursor({ v: 1, s: 'username', k: [row!.username_lower, row!.id] });
}

/**
 * Follows nextCursor DEEP_ROWS rows into the list (200 a page). A shorter list gives the
 * cursor before its last PAGE rows instead; a list of at most PAGE rows has no deep page.
 */
async function deepCursor(
  db: BenchDb,
  input: ListUsersInput,
  clock: { now(): number },
): Promise<{ cursor: string | null; rowsBefore: number; listEnds: boolean }> {
  let cursor: string | undefined;
  let rows = 0;
  let previous: UserSummary[] = [];
  while (rows < DEEP_ROWS) {
    const page = await listUsers(db.kysely, { ...input, limit: WALK_PAGE, ...(cursor ? { cursor } : {}) }, clock);
    if (!page.nextCursor) {
      // The list ends here: aim just before its last PAGE rows, so the timed page is full.
      const tail = [...previous, ...page.users];
      const total = rows - previous.length + tail.length;
      const anchor = tail.length > PAGE ? tail[tail.length - PAGE - 1]! : null;
      return { cursor: anchor ? cursorAfter(input, anchor) : null, rowsBefore: Math.max(0, total - PAGE), listEnds: true };
    }
    rows += page.users.length;
    previous = page.users;
    cursor = page.nextCursor;
  }
  return { cursor: cursor ?? null, rowsBefore: rows, listEnds: false };
}

function cursorAfter(input: ListUsersInput, user: { username: string; id: string; createdAt: number }): string {
  return input.sort === 'newest'
    ? encodeCursor({ v: 1, s: 'newest', k: [user.createdAt, user.id] })
    : encodeCursor({ v: 1, s: 'username', k: [user.username.toLowerCase(), user.id] });
}

async function timedList(
  db: BenchDb,
  input: ListUsersInput,
  clock: { now(): number },
): Promise<{ ms: number; cpuMs: number; rows: number; statements: StatementRecord[] }> {
  db.recorder.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const page = await listUsers(db.kysely, input, clock);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, rows: page.users.length, statements: db.recorder.stop() };
}

async function measureCase(db: BenchDb, c: ListCase, clock: { now(): number }): Promise<CaseResult> {
  const base: ListUsersInput = { ...c.input, limit: PAGE };
  const deep = await deepCursor(db, c.input, clock);
  const inputs = new Map<Position, { input: ListUsersInput; rowsBefore: number | null }>();
  inputs.set('first', { input: base, rowsBefore: 0 });
  if (deep.cursor) inputs.set('deep', { input: { ...base, cursor: deep.cursor }, rowsBefore: deep.rowsBefore });
  inputs.set('far', { input: { ...base, cursor: await farCursor(db, c.input) }, rowsBefore: null });
  const active = positions.filter((p) => inputs.has(p));

  // Warm-up: three calls each; a case this slow gets one, is timed fewer times, and says so.
  let slowest = 0;
  for (let i = 0; i < 3 && slowest <= SLOW_CALL_MS; i++) {
    for (const p of active) slowest = Math.max(slowest, (await timedList(db, inputs.get(p)!.input, clock)).ms);
  }
  const runs = slowest > SLOW_CALL_MS ? Math.min(SLOW_RUNS, RUNS) : RUNS;
  const times = new Map<Position, number[]>(active.map((p) => [p, []]));
  const sqlTimes = new Map<Position, number[]>(active.map((p) => [p, []]));
  const cpuTimes = new Map<Position, number[]>(active.map((p) => [p, []]));
  const last = new Map<Position, { rows: number; statements: StatementRecord[] }>();
  for (let r = 0; r < runs; r++) {
    // Rotate the order so neither position always runs right after the other.
    for (let k = 0; k < active.length; k++) {
      const p = active[(r + k) % active.length]!;
      const t = await timedList(db, inputs.get(p)!.input, clock);
      times.get(p)!.push(t.ms);
      cpuTimes.get(p)!.push(t.cpuMs);
      sqlTimes.get(p)!.push(t.statements.filter(isListStatement).reduce((a, s) => a + s.ms, 0));
      last.set(p, { rows: t.rows, statements: t.statements });
    }
  }

  const results: PositionResult[] = [];
  for (const p of active) {
    const ts = times.get(p)!;
    const l = last.get(p)!;
    const listStatement = l.statements.find(isListStatement);
    results.push({
      position: p,
      rowsBefore: inputs.get(p)!.rowsBefore,
      rowsReturned: l.rows,
      runs: ts.length,
      p50: round(median(ts), 3),
      p95: round(percentile(ts, 95), 3),
      max: round(Math.max(...ts), 3),
      sqlP50: round(median(sqlTimes.get(p)!), 3),
      cpuP50: round(median(cpuTimes.get(p)!), 3),
      cpuP95: round(percentile(cpuTimes.get(p)!, 95), 3),
      statementsPerCall: l.statements.length,
      plan: listStatement ? await db.explain(listStatement.sql, listStatement.parameters) : [],
    });
  }
  const first = results.find((r) => r.position === 'first')!;
  const ratioOf = (p: Position) => {
    const r = results.find((x) => x.position === p);
    return r ? round(r.p50 / first.p50, 2) : null;
  };
  const deepRatio = ratioOf('deep');
  const farRatio = ratioOf('far');
  const pass =
    results.every((r) => r.p95 <= GOAL_P95_MS) &&
    (deepRatio === null || deepRatio <= GOAL_DEEP_RATIO) &&
    (farRatio === null || farRatio <= GOAL_DEEP_RATIO);
  const notes: string[] = [];
  if (runs < RUNS) notes.push(`${runs} timed calls per page (warm-up calls took up to ${Math.round(slowest)} ms)`);
  if (!deep.cursor) notes.push(`the whole list fits on one page: no deep page`);
  else if (deep.listEnds) notes.push(`the list is shorter than ${DEEP_ROWS.toLocaleString('en-US')} rows: deep = its last ${PAGE} rows`);
  return { name: c.name, input: c.input, positions: results, deepRatio, farRatio, pass, note: notes.join('; ') || null };
}

// ---------------------------------------------------------------------------------------
// Counts per status

interface CountResult {
  firstMs: number;
  firstStatements: number;
  cachedCalls: number;
  cachedP50Us: number;
  cachedP95Us: number;
  cachedStatements: number;
  /** The view after the cache age: served the previous count at once (µs). */
  staleViewUs: number;
  /** The views while the recount runs: p95 (µs), and how many recounts they started between them. */
  duringRefreshP95Us: number;
  recountsStarted: number;
  /** The recount in the background, from its start to its end. */
  recountMs: number;
  maxAgeMs: number;
  counts: Record<string, number>;
  matchesSeed: boolean;
  pass: boolean;
}

async function measureCounts(db: BenchDb, seed: SeedSummary): Promise<CountResult> {
  const clock = manualClock(seedNow);
  db.recorder.start();
  let started = performance.now();
  const first = await countUsersByStatus(db.kysely, clock);
  const firstMs = performance.now() - started;
  const firstStatements = db.recorder.stop().length;

  // Page views within the cache age: one every half second for 25 s.
  const cached: number[] = [];
  db.recorder.start();
  for (let i = 0; i < RUNS; i++) {
    clock.advance(Math.floor((userCountsMaxAgeMs - 5_000) / RUNS));
    started = performance.now();
    await countUsersByStatus(db.kysely, clock);
    cached.push((performance.now() - started) * 1000);
  }
  const cachedStatements = db.recorder.stop().length;

  // After the cache age: the view gets the previous count at once; one recount runs behind it.
  clock.advance(userCountsMaxAgeMs);
  started = performance.now();
  const stale = await countUsersByStatus(db.kysely, clock);
  const staleViewUs = (performance.now() - started) * 1000;
  const refresh = userCountsRefresh(db.kysely);
  if (stale !== first || refresh === null) throw new Error('a view after the cache age should get the previous count and start one recount');
  // Views while it runs (one every 20 ms of real time) share that one recount.
  const during: number[] = [];
  const refreshes = new Set<Promise<unknown>>([refresh]);
  let done = false;
  const finished = refresh.then(() => {
    done = true;
  });
  while (!done) {
    const t = performance.now();
    await countUsersByStatus(db.kysely, clock);
    during.push((performance.now() - t) * 1000);
    const running = userCountsRefresh(db.kysely);
    if (running) refreshes.add(running);
    await Promise.race([finished, new Promise((r) => setTimeout(r, 20))]);
  }
  const recounted = await refresh;
  const recountMs = performance.now() - started;
  if ((await countUsersByStatus(db.kysely, clock)) !== recounted) throw new Error('the view after the recount should get it');

  const matchesSeed =
    first.total === seed.users && mfaStatusNames.every((s) => first.byStatus[s] === seed.byStatus[s]) && first.required === seed.required;
  return {
    firstMs: round(firstMs, 1),
    firstStatements,
    cachedCalls: cached.length,
    cachedP50Us: round(median(cached), 2),
    cachedP95Us: round(percentile(cached, 95), 2),
    cachedStatements,
    staleViewUs: round(staleViewUs, 1),
    duringRefreshP95Us: round(during.length ? percentile(during, 95) : 0, 1),
    recountsStarted: refreshes.size,
    recountMs: round(recountMs, 1),
    maxAgeMs: userCountsMaxAgeMs,
    counts: { total: first.total, ...first.byStatus, required: first.required },
    matchesSeed,
    pass: cachedStatements === 0 && firstStatements <= 2 && refreshes.size === 1 && staleViewUs < 5_000,
  };
}

// ---------------------------------------------------------------------------------------
// Bulk Require MFA

interface BulkRun {
  kind: 'new requirements' | 'again (update path)';
  ms: number;
  statements: number;
  byKind: Record<string, { count: number; ms: number }>;
  oneTransaction: boolean;
  /** PostgreSQL: pool connections taken during the call (1 = everything on the transaction's). */
  connections: number | null;
  requirementsWritten: number;
  auditRows: number;
  /** Requirements marked for their "period started" message by the call. */
  marks: number;
  /** The mail worker's next round, which turns the marks into outbox rows (not part of `ms`). */
  workerMs: number;
  outboxRows: number;
}

function statementKind(sql: string): string {
  const s = sql.trim().toLowerCase();
  if (/^(begin|commit|rollback)\b/.test(s)) return s.split(/\s/)[0]!;
  const write = /^(insert into|update|delete from)\s+"?(\w+)"?/.exec(s);
  if (write) return `${write[1]} ${write[2]}`;
  const read = /^select\b[\s\S]*?\bfrom\s+"?(\w+)"?/.exec(s);
  if (read) return `select from ${read[1]}`;
  return s.slice(0, 30);
}

async function bulkCandidates(db: BenchDb, sets: number): Promise<string[][]> {
  // Users with no requirement, in id order (random UUIDs: spread over the whole table);
  // admins are left out. Mostly active, some suspended and staged, like a real selection.
  const rows = await db.raw<{ id: string }>(
    `select u.id from users u left join mfa_requirements r on r.user_id = u.id
     where r.user_id is null and u.role = 'user' order by u.id limit ${sets * BULK_USERS}`,
  );
  const size = Math.min(BULK_USERS, Math.floor(rows.length / sets));
  return Array.from({ length: sets }, (_, k) => rows.slice(k * size, (k + 1) * size).map((r) => r.id));
}

async function measureBulk(db: BenchDb): Promise<{ runs: BulkRun[]; warmupMs: number; size: number }> {
  const sets = await bulkCandidates(db, BULK_RUNS + 1);
  const clock = manualClock(seedNow + 60_000);
  let acquired = 0;
  const onAcquire = () => {
    acquired += 1;
  };
  const pgPool = db.pool ?? null;
  pgPool?.on('acquire', onAcquire);

  const runOnce = async (ids: string[], kind: BulkRun['kind']): Promise<BulkRun> => {
    clock.advance(60_000);
    const at = clock.now();
    acquired = 0;
    db.recorder.start();
    const started = performance.now();
    const result = await requireMfaForUsers(db.kysely, { userIds: ids, enrollmentDays: 7 }, actor, clock);
    const ms = performance.now() - started;
    const statements = db.recorder.stop();
    const connections = pgPool ? acquired : null;
    const byKind: Record<string, { count: number; ms: number }> = {};
    for (const s of statements) {
      const k = statementKind(s.sql);
      byKind[k] ??= { count: 0, ms: 0 };
      byKind[k].count += 1;
      byKind[k].ms = round(byKind[k].ms + s.ms, 2);
    }
    const kinds = statements.map((s) => statementKind(s.sql));
    const oneTransaction =
      kinds[0] === 'begin' &&
      kinds[kinds.length - 1] === 'commit' &&
      kinds.filter((k) => k === 'begin' || k === 'commit' || k === 'rollback').length === 2 &&
      (connections === null || connections === 1);
    const [audit] = await db.raw<{ n: number }>(`select count(*) as n from audit_log where at = ${at} and action = 'mfa.required'`);
    const [marks] = await db.raw<{ n: number }>(`select count(*) as n from mfa_requirements where start_notice is not null and period_starts_at = ${at}`);
    // What the server's mail worker does within 2 s of the change: queue the marked messages.
    const workerStarted = performance.now();
    await queueEnrollmentStartedMessages(db.kysely, clock);
    const workerMs = performance.now() - workerStarted;
    const [outbox] = await db.raw<{ n: number }>(`select count(*) as n from mail_outbox where created_at = ${at}`);
    return {
      kind,
      ms: round(ms, 1),
      statements: statements.length,
      byKind,
      oneTransaction,
      connections,
      requirementsWritten: result.updated,
      auditRows: Number(audit!.n),
      marks: Number(marks!.n),
      workerMs: round(workerMs, 1),
      outboxRows: Number(outbox!.n),
    };
  };

  // The first call pays for preparing/planning and a cold cache: run it, report it apart.
  const warm = await runOnce(sets[0]!, 'new requirements');
  const runs: BulkRun[] = [];
  for (let k = 1; k <= BULK_RUNS; k++) runs.push(await runOnce(sets[k]!, 'new requirements'));
  for (let k = 1; k <= Math.min(2, BULK_RUNS); k++) runs.push(await runOnce(sets[k]!, 'again (update path)'));
  pgPool?.off('acquire', onAcquire);
  return { runs, warmupMs: warm.ms, size: sets[0]!.length };
}

// ---------------------------------------------------------------------------------------
// Impact preview (issue 18 §5)

interface ImpactCaseResult {
  name: string;
  goal: boolean;
  /** Wall time of each timed call, ms (the warm-up call apart). */
  runs: number[];
  warmupMs: number;
  medianMs: number;
  statements: { sql: string; ms: number; plan: string[] }[];
  counts: { inScope: number; deny: number; challenge: number; enrollHasFactor: number; enrollHasNone: number };
  pass: boolean;
}

function impactCases(): { name: string; goal: boolean; record: PolicyRecord }[] {
  const base: PolicyRecord = {
    id: 'bench-impact',
    name: 'Everyone MFA',
    description: null,
    enabled: true,
    scope: 'all',
    includeGroupIds: [],
    excludeGroupIds: [],
    conditions: {},
    resources: ['portal'],
    action: 'require_mfa',
    strength: 'any',
    reverifyMinutes: null,
    priority: 0,
  };
  return [
    { name: 'all users, require MFA', goal: true, record: base },
    { name: 'all users, deny', goal: false, record: { ...base, name: 'Everyone out', action: 'deny' } },
  ];
}

async function measureImpact(db: BenchDb): Promise<ImpactCaseResult[]> {
  const clock = manualClock(seedNow);
  const out: ImpactCaseResult[] = [];
  for (const c of impactCases()) {
    const t0 = performance.now();
    await policyImpact(db.kysely, c.record, clock); // first call: cold plans and caches, reported apart
    const warmupMs = performance.now() - t0;
    const runs: number[] = [];
    let last: PolicyImpact | null = null;
    let statements: { sql: string; parameters: readonly unknown[]; ms: number }[] = [];
    for (let k = 0; k < IMPACT_RUNS; k++) {
      db.recorder.start();
      const t = performance.now();
      last = await policyImpact(db.kysely, c.record, clock);
      runs.push(performance.now() - t);
      statements = db.recorder.stop();
    }
    const planned = [];
    for (const st of statements) planned.push({ sql: st.sql.replace(/\s+/g, ' ').trim(), ms: st.ms, plan: await db.explain(st.sql, st.parameters) });
    const medianMs = median(runs);
    out.push({
      name: c.name,
      goal: c.goal,
      runs,
      warmupMs,
      medianMs,
      statements: planned,
      counts: {
        inScope: last!.inScope,
        deny: last!.deny.count,
        challenge: last!.challenge.count,
        enrollHasFactor: last!.enroll.hasFactor.count,
        enrollHasNone: last!.enroll.hasNone.count,
      },
      pass: Math.max(...runs) <= GOAL_IMPACT_MS,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------

interface DialectResult {
  dialect: DialectName;
  seed: SeedSummary;
  seedCached: boolean;
  counts: CountResult | null;
  cases: CaseResult[];
  bulk: Awaited<ReturnType<typeof measureBulk>> | null;
  impact: ImpactCaseResult[] | null;
  totalMs: number;
  /** 1-minute load average when this dialect's measurements began and ended. */
  load: [number, number];
}

/** A run that measured everything: what RESULTS.md records. */
type FullResult = DialectResult & { counts: CountResult; bulk: NonNullable<DialectResult['bulk']>; impact: ImpactCaseResult[] };
const isFull = (r: DialectResult): r is FullResult => r.counts !== null && r.bulk !== null && r.impact !== null;

const loadNow = () => Math.round(os.loadavg()[0]! * 100) / 100;

async function runDialect(dialect: DialectName, postgresUrl: string | null): Promise<DialectResult> {
  const started = performance.now();
  const db = dialect === 'sqlite' ? await openSqliteBench(USERS, { reseed: args.reseed, pragmas: SQLITE_PRAGMAS }) : await openPostgresBench(postgresUrl!, USERS, { pgOptions: PG_OPTIONS });
  try {
    const seed = db.seed;
    emit('admin', 'seed', { dialect, users: USERS, cached: db.seedCached, ms: Math.round(seed.ms), vacuumAnalyzeMs: seed.vacuumAnalyzeMs === undefined ? undefined : Math.round(seed.vacuumAnalyzeMs), byStatus: seed.byStatus, required: seed.required, suspended: seed.suspended, staged: seed.staged, requirements: seed.requirements, factors: seed.factors, allVisible: db.allVisible });

    const loadAtStart = loadNow();
    const counts = SKIP.has('counts') ? null : await measureCounts(db, seed);
    if (counts) emit('admin', 'counts', { dialect, ...counts });

    const clock = manualClock(seedNow);
    const rare = seedRow(Math.floor(USERS / 2), USERS).user.username_lower;
    const cases: CaseResult[] = [];
    for (const c of listCases(rare).filter((x) => ONLY.length === 0 || ONLY.some((f) => x.name.includes(f)))) {
      const r = await measureCase(db, c, clock);
      cases.push(r);
      for (const p of r.positions) {
        const { plan, ...rest } = p;
        emit('admin', 'list', { dialect, filter: r.name, ...rest, goalP95Ms: GOAL_P95_MS, pass: p.p95 <= GOAL_P95_MS });
        emit('admin', 'plan', { dialect, filter: r.name, position: p.position, plan });
      }
      emit('admin', 'list-ratio', { dialect, filter: r.name, deepRatio: r.deepRatio, farRatio: r.farRatio, goal: GOAL_DEEP_RATIO, pass: r.pass, note: r.note });
    }

    const bulk = SKIP.has('bulk') ? null : await measureBulk(db);
    for (const run of bulk?.runs ?? []) emit('admin', 'bulk', { dialect, users: bulk!.size, ...run, goalMs: GOAL_BULK_MS, pass: run.ms <= GOAL_BULK_MS });
    const loadBeforeImpact = loadNow();
    const impact = SKIP.has('impact') ? null : await measureImpact(db);
    for (const r of impact ?? []) {
      const { statements, ...rest } = r;
      emit('admin', 'impact', { dialect, ...rest, loadAverageBefore: loadBeforeImpact, goalMs: r.goal ? GOAL_IMPACT_MS : undefined });
      for (const st of statements) emit('admin', 'impact-plan', { dialect, case: r.name, ...st });
    }
    const load: [number, number] = [loadAtStart, loadNow()];
    emit('admin', 'load', { dialect, loadAverageAtStart: load[0], loadAverageAtEnd: load[1] });
    return { dialect, seed, seedCached: db.seedCached, counts, cases, bulk, impact, totalMs: performance.now() - started, load };
  } finally {
    await db.close();
  }
}

function startPostgres(): { url: string; stop: () => void } {
  const env = { ...process.env, PG_STATE_FILE: process.env.PG_STATE_FILE ?? '/tmp/pg-bench-admin.state' };
  const script = path.join(__dirname, '..', 'scripts', 'pg-cluster.sh');
  const started = spawnSync('bash', [script, 'start'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (started.status !== 0) throw new Error('scripts/pg-cluster.sh start failed');
  return {
    url: started.stdout.trim(),
    stop: () => {
      spawnSync('bash', [script, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    },
  };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const date = new Date().toISOString();
  const results: DialectResult[] = [];
  let cluster: { url: string; stop: () => void } | null = null;
  try {
    for (const dialect of DIALECTS) {
      let url: string | null = null;
      if (dialect === 'postgres') {
        url = args['postgres-url'] ?? process.env.BENCH_POSTGRES_URL ?? null;
        if (!url) {
          cluster = startPostgres();
          url = cluster.url;
        }
      }
      results.push(await runDialect(dialect, url));
    }
  } finally {
    cluster?.stop();
  }
  const full = results.filter(isFull);
  if (PARTIAL || full.length !== results.length) {
    console.error('a partial run (--only, --skip, --sqlite-pragmas, --pg-options) writes no results');
    return;
  }
  if (args.results) writeResultsSection('admin', renderSection(full, machine, date), path.resolve(args.results));
  else if (WRITE) writeResultsSection('admin', renderSection(full, machine, date));
  else console.error(`bench/RESULTS.md left alone (${USERS.toLocaleString('en-US')} users; it records runs with ${FULL_SIZE.toLocaleString('en-US')} on both dialects, or pass --write)`);
}

// ---------------------------------------------------------------------------------------
// RESULTS.md

const fmt = (n: number, d = 2) => n.toFixed(d);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const dialectTitle = (d: DialectName) => (d === 'sqlite' ? 'SQLite' : 'PostgreSQL');

interface Verdicts {
  listP95: { failing: string[]; total: number };
  listDeep: { failing: string[]; total: number };
  bulkMs: number;
  bulkPass: boolean;
  oneTransaction: boolean;
  requirementStatements: number;
  auditStatements: number;
  countsPass: boolean;
}

function verdicts(r: FullResult): Verdicts {
  const p95Fail = r.cases.filter((c) => c.positions.some((p) => p.p95 > GOAL_P95_MS)).map((c) => c.name);
  const withRatio = r.cases.filter((c) => c.deepRatio !== null || c.farRatio !== null);
  const deepFail = withRatio.filter((c) => (c.deepRatio ?? 0) > GOAL_DEEP_RATIO || (c.farRatio ?? 0) > GOAL_DEEP_RATIO).map((c) => c.name);
  const newRuns = r.bulk.runs.filter((x) => x.kind === 'new requirements');
  const bulkMs = median(newRuns.map((x) => x.ms));
  const first = r.bulk.runs[0]!;
  return {
    listP95: { failing: p95Fail, total: r.cases.length },
    listDeep: { failing: deepFail, total: withRatio.length },
    bulkMs,
    bulkPass: bulkMs <= GOAL_BULK_MS,
    oneTransaction: r.bulk.runs.every((x) => x.oneTransaction),
    requirementStatements: first.byKind['insert into mfa_requirements']?.count ?? 0,
    auditStatements: first.byKind['insert into audit_log']?.count ?? 0,
    countsPass: r.counts.pass,
  };
}

/** The plan lines worth reading: PostgreSQL's nodes without buffer and planning detail. */
function planExcerpt(plan: string[]): string[] {
  return plan.filter((l) => !/^\s*(Buffers:|Planning|Heap Fetches|Worker \d|Full-sort Groups|Presorted Key)/.test(l) && l.trim() !== '');
}

/** The impact preview's table (also written by hand from a --skip run; see RESULTS.md). */
function impactLines(impact: ImpactCaseResult[], dialect: DialectName): string[] {
  const lines = [
    `**Impact preview** — \`policyImpact()\` (issue 18 §5), ${IMPACT_RUNS} timed calls after one warm-up. ${dialectTitle(dialect)}.`,
    '',
    '| policy | median / max ms | first call | statements (ms each, last call) | in scope; challenge / enroll with a factor / enroll without / deny | goal |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of impact) {
    const st = r.statements.map((x) => fmt(x.ms, 0)).join(' + ');
    const c = r.counts;
    lines.push(
      `| ${r.name} | ${fmt(r.medianMs, 0)} / ${fmt(Math.max(...r.runs), 0)} | ${fmt(r.warmupMs, 0)} ms | ${r.statements.length}: ${st} | ${int(c.inScope)}; ${int(c.challenge)} / ${int(c.enrollHasFactor)} / ${int(c.enrollHasNone)} / ${int(c.deny)} | ${r.goal ? `≤ ${GOAL_IMPACT_MS} ms ${passFail(r.pass)}` : '—'} |`,
    );
  }
  return lines;
}

function renderSection(results: FullResult[], machine: ReturnType<typeof machineInfo>, date: string): string {
  const lines: string[] = [
    '## admin',
    '',
    `\`npx tsx bench/admin.ts\` — ${date}, ${machineLine(machine)}; ${USERS.toLocaleString('en-US')} users; ${RUNS} timed calls per page and filter.`,
    '',
  ];
  const v = results.map((r) => ({ r, v: verdicts(r) }));
  lines.push(`| goal | ${v.map((x) => dialectTitle(x.r.dialect)).join(' | ')} |`, `| --- |${v.map(() => ' --- |').join('')}`);
  const row = (goal: string, cell: (x: (typeof v)[number]) => string) => lines.push(`| ${goal} | ${v.map(cell).join(' | ')} |`);
  row(`list page p95 ≤ ${GOAL_P95_MS} ms (first, deep and far page of every filter)`, (x) =>
    `${passFail(x.v.listP95.failing.length === 0)}: ${x.v.listP95.total - x.v.listP95.failing.length} of ${x.v.listP95.total} filters meet it`);
  row(`deep page ≤ ${GOAL_DEEP_RATIO}× first page (p50s)`, (x) =>
    `${passFail(x.v.listDeep.failing.length === 0)}: ${x.v.listDeep.total - x.v.listDeep.failing.length} of ${x.v.listDeep.total} filters meet it`);
  row(`bulk Require MFA, ${int(BULK_USERS)} users ≤ ${GOAL_BULK_MS} ms`, (x) => `${passFail(x.v.bulkPass)}: ${fmt(x.v.bulkMs, 0)} ms (median)`);
  row('… in one transaction', (x) => passFail(x.v.oneTransaction));
  row('… one set-based statement plus its audit entries', (x) =>
    `${passFail(x.v.requirementStatements === 1)}: ${x.v.requirementStatements} requirement + ${x.v.auditStatements} audit statements (each set-based)`);
  row('counts per status without an exact count on every page view; no view waits for a recount', (x) =>
    `${passFail(x.v.countsPass)}: a view after the cache age took ${fmt(x.r.counts.staleViewUs / 1000, 2)} ms; the recount (${fmt(x.r.counts.recountMs / 1000, 1)} s) ran behind it`);
  row(`impact preview of an all-users require-MFA policy ≤ ${fmt(GOAL_IMPACT_MS / 1000, 0)} s (every timed call)`, (x) => {
    const g = x.r.impact.find((i) => i.goal)!;
    return `${passFail(g.pass)}: ${fmt(g.medianMs, 0)} ms median, ${fmt(Math.max(...g.runs), 0)} ms max`;
  });
  lines.push('');

  for (const { r } of v) {
    const s = r.seed;
    const pct = (n: number) => `${((n / s.users) * 100).toFixed(1)}%`;
    lines.push(`### ${dialectTitle(r.dialect)}`, '');
    lines.push(
      `Seeded ${int(s.users)} users (${int(s.requirements)} requirements, ${int(s.factors)} TOTP factors) in ${fmt(s.ms / 1000, 1)} s` +
        (r.seedCached ? ' (the cached file of an earlier run)' : '') +
        (s.vacuumAnalyzeMs !== undefined ? `, then CHECKPOINT and VACUUM ANALYZE in ${fmt(s.vacuumAnalyzeMs / 1000, 1)} s` : '') +
        `: not enrolled ${pct(s.byStatus.not_enrolled)}, enrolled ${pct(s.byStatus.enrolled)}, in enrollment period ${pct(s.byStatus.enrollment_period)}, expired ${pct(s.byStatus.expired)}, pre-enrollment ${pct(s.byStatus.pre_enrollment)}; required ${pct(s.required)}, suspended ${pct(s.suspended)}, staged ${pct(s.staged)}. ` +
        `Load average ${r.load[0]} when the measurements began, ${r.load[1]} when they ended.`,
      '',
    );
    lines.push(
      `**List page** — \`listUsers()\`, ${PAGE} rows, ms. *first*: no cursor; *deep*: the cursor after 10,000 rows (page 201), reached by following nextCursor (for a shorter list, its last ${PAGE} rows; rows before it in brackets); *far*: a cursor at 90% of the sort order, made with encodeCursor(). CPU is this process's time per call (all of SQLite's work; for PostgreSQL only the client's).`,
      '',
      '| filter | first p50 / p95 | deep p50 / p95 | far p50 / p95 | deep, far ÷ first | CPU p95 first / deep / far | result |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const c of r.cases) {
      const at = (p: Position) => c.positions.find((x) => x.position === p);
      const cell = (p: Position) => {
        const x = at(p);
        if (!x) return '—';
        const before = p === 'deep' && x.rowsBefore !== null ? ` (${int(x.rowsBefore)})` : '';
        const empty = x.rowsReturned < PAGE ? `, ${x.rowsReturned} rows` : '';
        return `${fmt(x.p50)} / ${fmt(x.p95)}${before}${empty}${x.runs < RUNS ? `, n=${x.runs}` : ''}`;
      };
      const cpu = positions.map((p) => (at(p) ? fmt(at(p)!.cpuP95) : '—')).join(' / ');
      const ratio = `${c.deepRatio ?? '—'}, ${c.farRatio ?? '—'}`;
      lines.push(`| ${c.name} | ${cell('first')} | ${cell('deep')} | ${cell('far')} | ${ratio} | ${cpu} | ${passFail(c.pass)} |`);
    }
    const notes = r.cases.filter((c) => c.note).map((c) => `${c.name}: ${c.note}`);
    lines.push('', `Each call ran ${r.cases[0]!.positions[0]!.statementsPerCall} statements (the MFA settings, then the page).${notes.length ? ` Notes — ${notes.join('; ')}.` : ''}`, '');

    const b = r.bulk;
    const newRuns = b.runs.filter((x) => x.kind === 'new requirements');
    const again = b.runs.filter((x) => x.kind !== 'new requirements');
    const one = b.runs[0]!;
    const kinds = Object.entries(one.byKind)
      .map(([k, x]) => `${k} ×${x.count} (${fmt(x.ms, 0)} ms)`)
      .join(', ');
    const sqlMs = Object.values(one.byKind).reduce((a, x) => a + x.ms, 0);
    lines.push(
      `**Bulk Require MFA** — \`requireMfaForUsers()\` for ${int(b.size)} users without a requirement (mostly active, some suspended or staged), 7 days.`,
      '',
      '| measure | value | goal |',
      '| --- | --- | --- |',
      `| wall time, new requirements (median of ${newRuns.length}; each run) | **${fmt(median(newRuns.map((x) => x.ms)), 0)} ms** (${newRuns.map((x) => fmt(x.ms, 0)).join(', ')}) | ≤ ${GOAL_BULK_MS} ms ${passFail(median(newRuns.map((x) => x.ms)) <= GOAL_BULK_MS)} |`,
      `| the same users again (the update path) | ${again.map((x) => `${fmt(x.ms, 0)} ms`).join(', ')} | |`,
      `| the run's first call (not in the median) | ${fmt(b.warmupMs, 0)} ms | |`,
      `| one transaction${r.dialect === 'postgres' ? ', on one pooled connection' : ''} | ${b.runs.every((x) => x.oneTransaction) ? 'yes, every call' : 'NO'} | ${passFail(b.runs.every((x) => x.oneTransaction))} |`,
      `| statements per call (first timed run) | ${one.statements}: ${kinds} | one set-based requirement statement plus its audit entries |`,
      `| time in SQL / outside it (first timed run) | ${fmt(sqlMs, 0)} ms / ${fmt(one.ms - sqlMs, 0)} ms | |`,
      `| rows written: requirements (${int(one.marks)} of them marked for their "period started" message) / audit entries | ${int(one.requirementsWritten)} / ${int(one.auditRows)} | |`,
      `| after the call: the mail worker's next round queues the marked messages (lib/mail/start-notices.ts), in transactions of 500, not in the admin's request | ${int(one.outboxRows)} messages (skipped ones included) in ${fmt(median(newRuns.map((x) => x.workerMs)), 0)} ms (median) | |`,
      '',
    );

    const k = r.counts;
    lines.push(
      `**Counts per status** — \`countUsersByStatus()\`, called by every users-list and console-home view. Strategy: one exact count of users grouped by the four facts the status depends on (staged, required, period running, enrolled: one factor probe per user), classified by mfaStatus(); cached per process and database, stale-while-refresh: only the first view waits; after ${k.maxAgeMs / 1000} s (or a change made in the process) views get the previous count at once while ONE recount runs in the background (\`asOf\` gives the count's time).`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| first call: the count | ${fmt(k.firstMs, 0)} ms, ${k.firstStatements} statements |`,
      `| the next ${k.cachedCalls} calls within ${k.maxAgeMs / 1000} s | p50 ${fmt(k.cachedP50Us, 1)} µs / p95 ${fmt(k.cachedP95Us, 1)} µs; ${k.cachedStatements} statements in all |`,
      `| after ${k.maxAgeMs / 1000} s: the view | ${fmt(k.staleViewUs, 1)} µs (the previous count) |`,
      `| … views while the recount runs | p95 ${fmt(k.duringRefreshP95Us, 1)} µs; recounts started: ${k.recountsStarted} |`,
      `| … the recount in the background | ${fmt(k.recountMs, 0)} ms |`,
      `| the counts agree with the seeded mix | ${k.matchesSeed ? 'yes' : 'NO'} |`,
      '',
    );

    lines.push(...impactLines(r.impact, r.dialect), '');

    const failing = r.cases.filter((c) => !c.pass);
    if (failing.length > 0) {
      lines.push(`<details><summary>Plans of the list statements that miss a goal (${dialectTitle(r.dialect)}, ${r.dialect === 'sqlite' ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN ANALYZE'}, first page)</summary>`, '');
      for (const c of failing) {
        const first = c.positions.find((p) => p.position === 'first')!;
        lines.push(`${c.name}:`, '', '```', ...planExcerpt(first.plan), '```', '');
      }
      lines.push('</details>', '');
    }
  }

  lines.push(
    '### Method',
    '',
    `Every user row is a pure function of its number (bench/support/admin-seed.ts): name-based usernames (\`first.last<n>\`, so a first name is one block of the username order), emails (5% none), display names, creation times over three years, and an MFA status drawn from a hash of the number so that no status clusters in username order. ` +
      'SQLite is seeded in one transaction of prepared 1,000-row inserts, and the file is cached in the OS temp dir (keyed by the migrations and the generator) and copied for each run; PostgreSQL gets a fresh database, seeded in one transaction of `insert … select * from unnest(…)` over 25,000-row column arrays, then `CHECKPOINT` (the throwaway cluster commits asynchronously; see admin-db.ts) and `VACUUM ANALYZE` (as autovacuum would soon do). ' +
      'The bench calls the services the console page and the REST API call — `listUsers()`, `requireMfaForUsers()`, `countUsersByStatus()` — on a Kysely opened like db/index.ts createDb() (same pragmas; a pg pool of 10) with Kysely\'s `log` recording every statement. ' +
      `List pages: for each filter three pages (first, deep, far) are timed in rotating order, ${RUNS} times each after warm-up (a filter whose warm-up calls take over ${SLOW_CALL_MS} ms is timed ${SLOW_RUNS} times); times are wall-clock per call, in process. ` +
      'Bulk: each run takes 10,000 other users without a requirement (by id, so spread over the table); the transaction is checked from the statement log (one begin, one commit, nothing outside) and, on PostgreSQL, by counting pool checkouts during the call; the rows written are counted afterwards. ' +
      'Counts: a manual clock steps through the cache age; the first call and the recount after it are the exact count. ' +
      'The machine is shared with other work: the load averages above say how busy it was, and the CPU column separates this process\'s work from waiting for a core.',
    '',
  );
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
