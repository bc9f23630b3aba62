/**
 * "Forgot password?" must not say, by its timing, whether an account exists (ASVS 6.3.8).
 *
 *   npx tsx bench/password-reset.ts [--rounds 12] [--per-round 40] [--warmup 40] [--rebuild] [--src DIR]
 *
 * Builds the app as it is (bench/support/app.ts, a build of its own, reused while the sources
 * are unchanged), serves it as `npm start` does, and seeds
 * active users with an email address. Then, in rounds, POSTs /login/forgot/submit (the real
 * form post: CSRF check, bounded body, validation, address counter, the answer, and the
 * lookup, link and mail queued after it) one request at a time, in a random order of equal
 * numbers naming:
 *   - unknown: a name no account has;
 *   - known: an active user with an email address, each named at most twice in the whole run,
 *     so the per-account limit (3 an hour) never turns a known request into a throttled one.
 * Every request comes from its own client address (X-Forwarded-For from a trusted proxy,
 * 127.0.0.1), so the per-address limit never applies either: both kinds take their full path.
 * Every answer must be the same 303 to /login/forgot?sent=1 with the same headers and body.
 *
 * Reports the median response time of each kind, the ratio known ÷ unknown of the per-round
 * medians (its median, and a 95% confidence interval from the rounds, bench/support/stats.ts
 * medianInterval), and the same for the request that FOLLOWS each kind: the work done after
 * a known request's answer could otherwise show in the next response. Goal: 1 inside both
 * intervals ("within noise").
 *
 * Prints one JSON line per result and rewrites the "## password-reset" section of bench/RESULTS.md.
 */
import fs from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDb, migrateToLatest } from '../db';
import { cliActor } from '../lib/admin/actor';
import { createUser } from '../lib/admin/users';
import { systemClock } from '../lib/clock';
import { resetFollowUpDelay } from '../lib/auth/password-reset-request';
import { benchRoot, buildVariant, startApp } from './support/app';
import { keepAliveAgent, request, type HttpResult } from './support/http';
import { emit, machineInfo, machineLine, passFail, writeResultsSection } from './support/results';
import { median, medianInterval, round } from './support/stats';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    'per-round': { type: 'string', default: '40' },
    warmup: { type: 'string', default: '40' },
    rebuild: { type: 'boolean', default: false },
    src: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const PER_ROUND = Number(args['per-round']);
const WARMUP = Number(args.warmup);
/** Each known user is named at most this often (the per-account limit is 3 an hour). */
const USES_PER_USER = 2;

const log = (line: string) => console.error(`[bench:reset] ${line}`);
type Kind = 'known' | 'unknown';

async function seedKnownUsers(databaseUrl: string, count: number): Promise<string[]> {
  const db = createDb(databaseUrl);
  try {
    await migrateToLatest(db);
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const username = `bench-reset-${String(i).padStart(4, '0')}`;
      await createUser(db.kysely, { username, email: `${username}@example.test`, state: 'active' }, cliActor, systemClock);
      names.push(username);
    }
    return names;
  } finally {
    await db.close();
  }
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** What a client can see of an answer, less the per-response date, request id and CSP nonce. */
function visible(res: HttpResult): string {
  const headers = { ...res.headers };
  delete headers.date;
  delete headers['x-request-id'];
  delete headers['keep-alive'];
  // A fresh nonce of the same length on every response.
  const csp = headers['content-security-policy'];
  if (typeof csp === 'string') headers['content-security-policy'] = csp.replace(/'nonce-[A-Za-z0-9+/=]{24}'/g, "'nonce-…'");
  return JSON.stringify({ status: res.status, headers: Object.entries(headers).sort(), body: res.body });
}

async function main(): Promise<void> {
  const machine = machineInfo();
  fs.mkdirSync(benchRoot, { recursive: true });
  log(machineLine(machine));
  const built = await buildVariant('reset', { src: args.src, rebuild: args.rebuild, log });
  const app = await startApp('reset', built.dir, { env: { PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1' } });
  try {
    const knownAsked = ROUNDS * (PER_ROUND / 2) + WARMUP / 2;
    const knownNeeded = Math.ceil(knownAsked / USES_PER_USER);
    log(`seeding ${knownNeeded} users`);
    const known = await seedKnownUsers(app.databaseUrl, knownNeeded);
    const knownQueue = shuffled(Array.from({ length: USES_PER_USER }, () => known).flat());
    const agent = keepAliveAgent(1);
    let addressSeq = 0;
    let reference: string | null = null;

    const ask = async (kind: Kind): Promise<HttpResult> => {
      const identifier = kind === 'known' ? knownQueue.pop()! : `nobody-${randomBytes(6).toString('hex')}`;
      const n = ++addressSeq;
      const res = await request(
        app.url,
        {
          method: 'POST',
          path: '/login/forgot/submit',
          headers: {
            origin: app.url,
            'content-type': 'application/x-www-form-urlencoded',
            'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          },
          body: new URLSearchParams({ identifier }).toString(),
        },
        agent,
      );
      const seen = visible(res);
      if (res.status !== 303 || res.headers.location !== '/login/forgot?sent=1') throw new Error(`unexpected answer: ${seen}`);
      reference ??= seen;
      if (seen !== reference) throw new Error(`answers differ:\n${reference}\n${seen}`);
      return res;
    };

    log(`warm-up: ${WARMUP} requests`);
    for (const kind of shuffled(Array.from({ length: WARMUP }, (_, i): Kind => (i % 2 ? 'known' : 'unknown')))) await ask(kind);

    const all: Record<Kind, number[]> = { known: [], unknown: [] };
    const after: Record<Kind, number[]> = { known: [], unknown: [] };
    const roundRatios: number[] = [];
    const roundFollowRatios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = shuffled(Array.from({ length: PER_ROUND }, (_, i): Kind => (i % 2 ? 'known' : 'unknown')));
      const times: Record<Kind, number[]> = { known: [], unknown: [] };
      const following: Record<Kind, number[]> = { known: [], unknown: [] };
      let previous: Kind | null = null;
      for (const kind of order) {
        const res = await ask(kind);
        times[kind].push(res.ms);
        if (previous) following[previous].push(res.ms);
        previous = kind;
      }
      const ratio = median(times.known) / median(times.unknown);
      const followRatio = median(following.known) / median(following.unknown);
      roundRatios.push(ratio);
      roundFollowRatios.push(followRatio);
      for (const k of ['known', 'unknown'] as const) {
        all[k].push(...times[k]);
        after[k].push(...following[k]);
      }
      log(`round ${r + 1}: known ${round(median(times.known))} ms, unknown ${round(median(times.unknown))} ms, ratio ${round(ratio)}; after known ÷ after unknown ${round(followRatio)}`);
    }

    // Let the after-response work finish, then check it really ran for known names only.
    await new Promise((r) => setTimeout(r, resetFollowUpDelay.maxMs + 2_000));
    const db = createDb(app.databaseUrl);
    let links = 0;
    try {
      links = Number((await db.kysely.selectFrom('account_tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    } finally {
      await db.close();
    }

    const ci = medianInterval(roundRatios);
    const followCi = medianInterval(roundFollowRatios);
    const within = (iv: [number, number] | null) => iv !== null && iv[0] <= 1 && 1 <= iv[1];
    const result = {
      knownMedianMs: round(median(all.known)),
      unknownMedianMs: round(median(all.unknown)),
      ratio: round(median(roundRatios)),
      ratioCi95: ci?.map((v) => round(v)) ?? null,
      afterKnownMedianMs: round(median(after.known)),
      afterUnknownMedianMs: round(median(after.unknown)),
      followRatio: round(median(roundFollowRatios)),
      followRatioCi95: followCi?.map((v) => round(v)) ?? null,
      requests: ROUNDS * PER_ROUND,
      linksIssued: links,
      knownAsked,
    };
    const pass = within(ci) && within(followCi) && links === knownAsked;
    emit('password-reset', passFail(pass), result);

    writeResultsSection(
      'password-reset',
      [
        '## password-reset',
        '',
        `"Forgot password?" answers without saying whether an account exists (ASVS 6.3.8): \`npm run bench:reset\`, ${new Date().toISOString().slice(0, 10)}.`,
        `${machineLine(machine)}. ${ROUNDS} rounds of ${PER_ROUND} POST /login/forgot/submit through \`npm start\`, one at a time,`,
        'half naming an active user with an email address (each at most twice: under the per-account limit), half a name no',
        'account has, in random order, each from its own client address (under the per-address limit). Every answer was',
        `the same 303 with the same headers and body; ${links} links were issued for ${knownAsked} known requests (after the answer).`,
        '',
        '| | known | unknown | ratio known ÷ unknown (median of rounds) | 95% CI of the ratio |',
        '|---|---|---|---|---|',
        `| response time, median | ${result.knownMedianMs} ms | ${result.unknownMedianMs} ms | ${result.ratio} | ${ci ? `${round(ci[0])}–${round(ci[1])}` : 'n/a'} |`,
        `| the NEXT request's time, median | ${result.afterKnownMedianMs} ms | ${result.afterUnknownMedianMs} ms | ${result.followRatio} | ${followCi ? `${round(followCi[0])}–${round(followCi[1])}` : 'n/a'} |`,
        '',
        `${passFail(pass)}: goal 1 inside both intervals ("within noise"). The second row is the side channel of the work done`,
        'after a known answer (lookup, link, mail row): it could only show in the response that follows it.',
        '',
      ].join('\n'),
    );
  } finally {
    await app.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
