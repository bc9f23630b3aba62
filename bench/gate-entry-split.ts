/**
 * Where the entry-server gate's cost goes (bench/gate.ts's `entry` variant against `none`),
 * on the builds bench/gate.ts made (run it first; same TMPDIR):
 *
 *   npx tsx bench/gate-entry-split.ts [--rounds 8] [--round-ms 1250] [--concurrency 8]
 *
 * Three servers: `entry` (the gate build as `npm start` serves it), `entry-no-mw` (the
 * no-middleware build with the entry gate on: the same decision and nonce, but no
 * middleware.ts in the build for Next.js to match against) and `none` (the no-middleware
 * build, entry gate off). entry vs entry-no-mw is what a middleware.ts that does not run still
 * costs; entry-no-mw vs none is the decision plus rendering with a nonce. Prints JSON lines;
 * RESULTS.md is not rewritten (the reading goes into the "## gate" notes by hand).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchRoot, processCpuNs, seedUsers, startApp, type RunningApp } from './support/app';
import { closedLoop, keepAliveAgent, portalCheck, request, signIn } from './support/http';
import { emit } from './support/results';
import { median, round } from './support/stats';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    'round-ms': { type: 'string', default: '1250' },
    concurrency: { type: 'string', default: '8' },
  },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args['round-ms']);
const CONCURRENCY = Number(args.concurrency);
const USER = { username: 'bench-split', password: 'bench-split-password-1' };
const SERVERS = [
  { name: 'entry', build: 'gate', entryGate: 'on' },
  { name: 'entry-no-mw', build: 'none', entryGate: 'on' },
  { name: 'none', build: 'none', entryGate: 'off' },
] as const;

async function main() {
  const served: Array<{ name: string; app: RunningApp; cookie: string; agent: ReturnType<typeof keepAliveAgent> }> = [];
  for (const s of SERVERS) {
    const app = await startApp(s.name, path.join(benchRoot, 'builds', s.build), { env: { PORTCULLIS_ENTRY_GATE: s.entryGate } });
    await seedUsers(app.databaseUrl, [USER]);
    served.push({ name: s.name, app, cookie: await signIn(app.url, USER.username, USER.password), agent: keepAliveAgent(CONCURRENCY) });
  }
  const load = async (s: (typeof served)[number], ms: number) => {
    const cpu0 = processCpuNs(s.app.pid) ?? Number.NaN;
    const stats = await closedLoop({
      concurrency: CONCURRENCY,
      durationMs: ms,
      next: () => request(s.app.url, { path: '/portal', headers: { cookie: s.cookie } }, s.agent),
      check: portalCheck,
    });
    if (stats.failed) throw new Error(`${s.name}: ${stats.failed} failed (${stats.firstFailure})`);
    return { ok: stats.ok, perSecond: stats.perSecond, cpuMs: ((processCpuNs(s.app.pid) ?? Number.NaN) - cpu0) / 1e6 };
  };
  for (const s of served) await load(s, 2000);
  const cpu: Record<string, number> = {};
  const ok: Record<string, number> = {};
  const ratios: Record<string, number[]> = { 'entry/entry-no-mw': [], 'entry-no-mw/none': [], 'entry/none': [] };
  for (let r = 0; r < ROUNDS; r++) {
    const rate: Record<string, number> = {};
    for (let i = 0; i < served.length; i++) {
      const s = served[(i + r) % served.length]!;
      const x = await load(s, ROUND_MS);
      rate[s.name] = x.perSecond;
      cpu[s.name] = (cpu[s.name] ?? 0) + x.cpuMs;
      ok[s.name] = (ok[s.name] ?? 0) + x.ok;
    }
    ratios['entry/entry-no-mw']!.push(rate.entry! / rate['entry-no-mw']!);
    ratios['entry-no-mw/none']!.push(rate['entry-no-mw']! / rate.none!);
    ratios['entry/none']!.push(rate.entry! / rate.none!);
    console.error(`[bench:gate-entry-split] round ${r + 1}/${ROUNDS}: ${Object.entries(rate).map(([k, v]) => `${k} ${v.toFixed(0)}/s`).join(', ')}`);
  }
  for (const s of served) {
    s.agent.destroy();
    await s.app.stop();
  }
  emit('gate-entry-split', 'server CPU per request (µs, pooled)', Object.fromEntries(SERVERS.map((s) => [s.name, Math.round((cpu[s.name]! * 1000) / ok[s.name]!)])));
  emit('gate-entry-split', 'requests/s ratios (median of rounds)', Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(median(v))])));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
