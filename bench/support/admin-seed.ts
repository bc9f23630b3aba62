/**
 * A large, deterministic users directory for bench/admin.ts: N users with a realistic mix of
 * MFA statuses, their requirements and TOTP factors, written set-based (SQLite: one
 * transaction of prepared multi-row inserts; PostgreSQL: `insert … select from unnest(…)`
 * of 25,000-row column arrays in one transaction).
 *
 * Row i is a pure function of i, so both dialects hold the same users, and a status never
 * clusters in username order: buckets come from a hash of i, not from i itself.
 *
 * The mix (per 1,000 users):
 * - 600 no requirement → "not enrolled" (6 of them staged);
 * - 250 with a TOTP factor → "enrolled" (200 required with a past period, 50 never required);
 * - 80 required, period running → "in enrollment period";
 * - 50 required, period over → "expired";
 * - 20 staged and required → "pre-enrollment" (no period yet).
 * About 3% of the users who are not staged are suspended; 20 users are admins.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { MfaStatusName } from '../../lib/policy';

/** The bench's "now": every period is placed relative to it, and the bench clock is set to it. */
export const seedNow = Date.UTC(2026, 10, 2, 9, 0, 0);
const hour = 3_600_000;
const day = 24 * hour;

export const seedAdminId = 'bench-admin-0000-0000-000000000000';

const firstNames = [
  'ada', 'alan', 'grace', 'linus', 'margaret', 'edsger', 'barbara', 'donald', 'frances', 'ken', 'dennis', 'radia',
  'john', 'mary', 'james', 'patricia', 'robert', 'jennifer', 'michael', 'linda', 'william', 'elizabeth', 'david',
  'susan', 'richard', 'jessica', 'joseph', 'sarah', 'thomas', 'karen', 'charles', 'nancy', 'christopher', 'lisa',
  'daniel', 'betty', 'matthew', 'sandra', 'anthony', 'ashley', 'mark', 'kimberly', 'paul', 'emily', 'steven', 'donna',
  'andrew', 'michelle', 'joshua', 'carol', 'kevin', 'amanda', 'brian', 'melissa', 'george', 'deborah', 'timothy',
  'stephanie', 'ronald', 'rebecca', 'jason', 'sharon', 'edward', 'laura', 'jeffrey', 'cynthia', 'ryan', 'amy', 'jacob',
  'kathleen', 'gary', 'angela', 'nicholas', 'shirley', 'eric', 'brenda', 'jonathan', 'emma', 'stephen', 'anna',
  'larry', 'pamela', 'justin', 'nicole', 'scott', 'samantha', 'brandon', 'katherine', 'benjamin', 'christine',
  'samuel', 'helen', 'gregory', 'debra', 'alexander', 'rachel', 'patrick', 'carolyn', 'frank', 'janet', 'raymond',
  'maria', 'jack', 'olivia', 'dmitri', 'yuki', 'wei', 'priya', 'omar', 'fatima', 'lars', 'ingrid', 'mateo', 'lucia',
];
const lastNames = [
  'lovelace', 'turing', 'hopper', 'torvalds', 'hamilton', 'dijkstra', 'liskov', 'knuth', 'allen', 'thompson',
  'ritchie', 'perlman', 'smith', 'johnson', 'williams', 'brown', 'jones', 'garcia', 'miller', 'davis', 'rodriguez',
  'martinez', 'hernandez', 'lopez', 'gonzalez', 'wilson', 'anderson', 'taylor', 'moore', 'jackson', 'martin', 'lee',
  'perez', 'white', 'harris', 'sanchez', 'clark', 'ramirez', 'lewis', 'robinson', 'walker', 'young', 'king', 'wright',
  'scott', 'torres', 'nguyen', 'hill', 'flores', 'green', 'adams', 'nelson', 'baker', 'hall', 'rivera', 'campbell',
  'mitchell', 'carter', 'roberts', 'gomez', 'phillips', 'evans', 'turner', 'diaz', 'parker', 'cruz', 'edwards',
  'collins', 'reyes', 'stewart', 'morris', 'morales', 'murphy', 'cook', 'rogers', 'gutierrez', 'ortiz', 'morgan',
  'cooper', 'peterson', 'bailey', 'reed', 'kelly', 'howard', 'ramos', 'kim', 'cox', 'ward', 'richardson', 'watson',
  'brooks', 'chavez', 'wood', 'james', 'bennett', 'gray', 'mendoza', 'ruiz', 'hughes', 'price', 'alvarez', 'castillo',
  'sanders', 'patel', 'myers', 'long', 'ross', 'foster', 'jimenez', 'okafor', 'tanaka', 'novak', 'ivanova', 'larsen',
];

/** A search term that matches about 1 user in 120 (a common surname, in username, email and name). */
export const commonSearchTerm = 'lovelace';

const passwordHash = '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2gtc2FsdC0wMDAw$Y29uc3RhbnQtaGFzaC1mb3ItdGhlLWJlbmNoLW9ubHk';
const sealedSecret = 'v1:bench:AAAAAAAAAAAAAAAA:sealed-totp-secret-placeholder';

/** A 32-bit avalanche of i (murmur3's finalizer), salted, so neighbours land far apart. */
function mix(i: number, salt: number): number {
  let h = (i ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function uuidOf(text: string): string {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface SeedUser {
  id: string;
  username: string;
  username_lower: string;
  email: string | null;
  display_name: string | null;
  password_hash: string;
  state: 'staged' | 'active' | 'suspended';
  role: 'user' | 'admin';
  created_at: number;
  activated_at: number | null;
}

export interface SeedRequirement {
  user_id: string;
  required: number;
  enrollment_days: number;
  period_starts_at: number | null;
  period_ends_at: number | null;
  set_by: string | null;
  set_at: number;
}

export interface SeedFactor {
  id: string;
  user_id: string;
  created_at: number;
}

export interface SeedRow {
  user: SeedUser;
  requirement: SeedRequirement | null;
  factor: SeedFactor | null;
  /** The status mfaStatus() gives this user at seedNow (TOTP is the only method enabled by default). */
  status: MfaStatusName;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Row i of n (0-based); created_at rises with i over about three years before seedNow. */
export function seedRow(i: number, n: number): SeedRow {
  const bucket = mix(i, 0x9e3779b9) % 1000;
  const names = mix(i, 0x7f4a7c15);
  const extra = mix(i, 0x2545f491);
  const first = firstNames[names % firstNames.length]!;
  const last = lastNames[Math.floor(names / firstNames.length) % lastNames.length]!;
  const base = `${first}.${last}${i}`;
  const username = extra % 10 === 0 ? capitalize(base) : base;
  const usernameLower = username.toLowerCase();
  const emailKind = (extra >>> 4) % 100;
  const email = emailKind < 5 ? null : emailKind < 8 ? `${usernameLower}@corp.example.org` : `${usernameLower}@example.com`;
  const displayName = (extra >>> 11) % 10 === 0 ? null : `${capitalize(first)} ${capitalize(last)}`;
  const createdAt = seedNow - Math.round(((n - i) / n) * 3 * 365 * day) - 60_000;
  const id = i < 20 ? `bench-admin-${String(i).padStart(4, '0')}-0000-0000-000000000000` : uuidOf(`user:${i}`);

  let status: MfaStatusName;
  let staged = false;
  if (bucket < 600) {
    status = 'not_enrolled';
    staged = bucket < 6;
  } else if (bucket < 850) status = 'enrolled';
  else if (bucket < 930) status = 'enrollment_period';
  else if (bucket < 980) status = 'expired';
  else {
    status = 'pre_enrollment';
    staged = true;
  }
  const suspended = !staged && (extra >>> 17) % 100 < 3;
  const state = staged ? 'staged' : suspended ? 'suspended' : 'active';

  const days = [7, 7, 7, 14, 30][(extra >>> 21) % 5]!;
  const setBy = seedAdminId;
  let requirement: SeedRequirement | null = null;
  switch (status) {
    case 'enrolled':
      if (bucket < 800) {
        const starts = createdAt + day;
        requirement = { user_id: id, required: 1, enrollment_days: days, period_starts_at: starts, period_ends_at: starts + days * day, set_by: setBy, set_at: starts };
      }
      break;
    case 'enrollment_period': {
      // Started within the period, at least an hour before now: it ends after now.
      const ago = (extra % ((days * 24 - 1) * 60)) * 60_000 + hour;
      const starts = seedNow - ago;
      requirement = { user_id: id, required: 1, enrollment_days: days, period_starts_at: starts, period_ends_at: starts + days * day, set_by: setBy, set_at: starts };
      break;
    }
    case 'expired': {
      const endedAgo = (extra % (90 * 24)) * hour + 60_000;
      const ends = seedNow - endedAgo;
      requirement = { user_id: id, required: 1, enrollment_days: days, period_starts_at: ends - days * day, period_ends_at: ends, set_by: setBy, set_at: ends - days * day };
      break;
    }
    case 'pre_enrollment':
      requirement = { user_id: id, required: 1, enrollment_days: days, period_starts_at: null, period_ends_at: null, set_by: setBy, set_at: createdAt + hour };
      break;
    case 'not_enrolled':
      break;
  }
  const factor = status === 'enrolled' ? { id: uuidOf(`factor:${i}`), user_id: id, created_at: createdAt + 2 * day } : null;
  return {
    user: {
      id,
      username,
      username_lower: usernameLower,
      email,
      display_name: displayName,
      password_hash: passwordHash,
      state,
      role: i < 20 ? 'admin' : 'user',
      created_at: createdAt,
      activated_at: staged ? null : createdAt + hour,
    },
    requirement,
    factor,
    status,
  };
}

export interface SeedSummary {
  users: number;
  requirements: number;
  factors: number;
  byStatus: Record<MfaStatusName, number>;
  required: number;
  suspended: number;
  staged: number;
  /** Users matching commonSearchTerm (username, email or display name contain it). */
  commonSearchMatches: number;
  ms: number;
  /** PostgreSQL: the VACUUM ANALYZE after the load. */
  vacuumAnalyzeMs?: number;
}

function emptySummary(n: number): SeedSummary {
  return {
    users: n,
    requirements: 0,
    factors: 0,
    byStatus: { enrolled: 0, not_enrolled: 0, enrollment_period: 0, expired: 0, pre_enrollment: 0 },
    required: 0,
    suspended: 0,
    staged: 0,
    commonSearchMatches: 0,
    ms: 0,
  };
}

function tally(summary: SeedSummary, row: SeedRow): void {
  summary.byStatus[row.status] += 1;
  if (row.requirement) summary.requirements += 1;
  if (row.requirement?.required === 1) summary.required += 1;
  if (row.factor) summary.factors += 1;
  if (row.user.state === 'suspended') summary.suspended += 1;
  if (row.user.state === 'staged') summary.staged += 1;
  const t = commonSearchTerm;
  if (row.user.username_lower.includes(t) || row.user.email?.includes(t) || row.user.display_name?.toLowerCase().includes(t)) {
    summary.commonSearchMatches += 1;
  }
}

const userColumns = ['id', 'username', 'username_lower', 'email', 'display_name', 'password_hash', 'state', 'role', 'created_at', 'activated_at'] as const;
const requirementColumns = ['user_id', 'required', 'enrollment_days', 'period_starts_at', 'period_ends_at', 'set_by', 'set_at'] as const;
const factorColumns = ['id', 'user_id', 'type', 'name', 'created_at', 'last_used_at', 'secret_enc', 'last_used_step', 'credential_id', 'public_key', 'sign_count', 'transports'] as const;

function factorValues(f: SeedFactor): unknown[] {
  return [f.id, f.user_id, 'totp', 'Authenticator app', f.created_at, null, sealedSecret, null, null, null, null, null];
}

/**
 * Seeds a migrated, empty SQLite database through its better-sqlite3 handle: one
 * transaction, prepared multi-row statements of 1,000 users (10,000 parameters; the bundled
 * SQLite takes 32,766) followed by their requirements and factors.
 */
export function seedSqlite(database: BetterSqlite3.Database, n: number): SeedSummary {
  const started = performance.now();
  const summary = emptySummary(n);
  const usersPerStatement = 1_000;
  const statements = new Map<string, BetterSqlite3.Statement>();
  const insertOf = (table: string, columns: readonly string[], rows: number) => {
    const key = `${table}:${rows}`;
    let stmt = statements.get(key);
    if (!stmt) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      stmt = database.prepare(`insert into ${table} (${columns.join(', ')}) values ${Array(rows).fill(tuple).join(', ')}`);
      statements.set(key, stmt);
    }
    return stmt;
  };
  database.pragma('cache_size = -524288'); // 512 MiB while seeding
  database.pragma('synchronous = OFF');
  const run = database.transaction(() => {
    let users: unknown[] = [];
    let requirements: unknown[] = [];
    let factors: unknown[] = [];
    // Users first, then the rows that reference them (foreign keys are on).
    const flush = () => {
      if (users.length > 0) insertOf('users', userColumns, users.length / userColumns.length).run(users);
      if (requirements.length > 0) {
        insertOf('mfa_requirements', requirementColumns, requirements.length / requirementColumns.length).run(requirements);
      }
      if (factors.length > 0) insertOf('factors', factorColumns, factors.length / factorColumns.length).run(factors);
      users = [];
      requirements = [];
      factors = [];
    };
    for (let i = 0; i < n; i++) {
      const row = seedRow(i, n);
      tally(summary, row);
      for (const c of userColumns) users.push(row.user[c]);
      if (row.requirement) for (const c of requirementColumns) requirements.push(row.requirement[c]);
      if (row.factor) factors.push(...factorValues(row.factor));
      if (users.length === usersPerStatement * userColumns.length) flush();
    }
    flush();
  });
  run();
  database.pragma('synchronous = NORMAL');
  summary.ms = performance.now() - started;
  return summary;
}

const pgTypes: Record<string, string> = {
  created_at: 'bigint',
  activated_at: 'bigint',
  period_starts_at: 'bigint',
  period_ends_at: 'bigint',
  set_at: 'bigint',
  last_used_at: 'bigint',
  last_used_step: 'bigint',
  sign_count: 'bigint',
  required: 'integer',
  enrollment_days: 'integer',
};

/**
 * Seeds a migrated, empty PostgreSQL database over one client: one transaction, each table
 * as `insert … select * from unnest($1::text[], $2::bigint[], …)` of 25,000 rows (one
 * array parameter per column).
 */
export async function seedPostgres(client: pg.Client, n: number): Promise<SeedSummary> {
  const started = performance.now();
  const summary = emptySummary(n);
  const batch = 25_000;
  const sqlOf = (table: string, columns: readonly string[]) =>
    `insert into ${table} (${columns.join(', ')}) select * from unnest(${columns.map((c, k) => `$${k + 1}::${pgTypes[c] ?? 'text'}[]`).join(', ')})`;
  const statements = {
    users: sqlOf('users', userColumns),
    requirements: sqlOf('mfa_requirements', requirementColumns),
    factors: sqlOf('factors', factorColumns),
  };
  const columnsOf = (width: number) => Array.from({ length: width }, () => [] as unknown[]);
  let users = columnsOf(userColumns.length);
  let requirements = columnsOf(requirementColumns.length);
  let factors = columnsOf(factorColumns.length);
  await client.query('begin');
  try {
    for (let i = 0; i < n; i++) {
      const row = seedRow(i, n);
      tally(summary, row);
      userColumns.forEach((c, k) => users[k]!.push(row.user[c]));
      if (row.requirement) requirementColumns.forEach((c, k) => requirements[k]!.push(row.requirement![c]));
      if (row.factor) factorValues(row.factor).forEach((v, k) => factors[k]!.push(v));
      const last = i === n - 1;
      if (users[0]!.length >= batch || last) {
        await client.query(statements.users, users);
        users = columnsOf(userColumns.length);
        if (requirements[0]!.length > 0) await client.query(statements.requirements, requirements);
        requirements = columnsOf(requirementColumns.length);
        if (factors[0]!.length > 0) await client.query(statements.factors, factors);
        factors = columnsOf(factorColumns.length);
      }
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
  summary.ms = performance.now() - started;
  return summary;
}
