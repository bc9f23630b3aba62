/**
 * The password blocklist (lib/auth/password-blocklist.ts): what loading it costs a process,
 * and what a check costs, for the sorted buffer it uses and for a Set of strings, the
 * obvious alternative, built from the same entries in the same run.
 *
 *   node --expose-gc --import tsx bench/password-blocklist.ts
 *
 * Prints one JSON line and rewrites the "## password-blocklist" section of bench/RESULTS.md.
 */
import zlib from 'node:zlib';
import fs from 'node:fs';
import { loadPasswordBlocklist, passwordBlocklistFile } from '../lib/auth/password-blocklist';
import { blocklistKey } from '../lib/auth/password-policy';
import { emit, machineInfo, machineLine, writeResultsSection } from './support/results';

const LOOKUPS = 200_000;
const ROUNDS = 5;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function memory() {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, outside: m.external };
}
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Half listed, half not, each as someone might type it.
const samples = ['Password123456789', 'BaseBall', 'iloveyou2', 'ｑｗｅｒｔｙｕｉｏｐ', 'abandonment', 'tea 🍵 and biscuits 🍪', 'my own long passphrase here', 'zebra crossing at dusk 42'];
const keys = samples.map(blocklistKey);

function lookupMicros(has: (key: string) => boolean): { micros: number; hits: number } {
  const times: number[] = [];
  let hits = 0;
  for (let r = 0; r < ROUNDS; r++) {
    hits = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LOOKUPS; i++) if (has(keys[i % keys.length]!)) hits++;
    times.push(Number(process.hrtime.bigint() - t0) / 1000 / LOOKUPS);
  }
  return { micros: median(times), hits };
}

function main() {
  const machine = machineInfo();
  const fileBytes = fs.statSync(passwordBlocklistFile).size;

  const before = memory();
  const t0 = process.hrtime.bigint();
  const list = loadPasswordBlocklist();
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = memory();
  const sorted = lookupMicros((k) => list.has(k));

  const setBefore = memory();
  const s0 = process.hrtime.bigint();
  const set = new Set(zlib.gunzipSync(fs.readFileSync(passwordBlocklistFile)).toString('utf8').split('\n').filter(Boolean));
  const setLoadMs = Number(process.hrtime.bigint() - s0) / 1e6;
  const setAfter = memory();
  const asSet = lookupMicros((k) => set.has(k));
  if (set.size !== list.size || sorted.hits !== asSet.hits) throw new Error('the two forms disagree');

  const result = {
    entries: list.size,
    fileBytes,
    loadMs: Math.round(loadMs),
    rssMB: Number(mb(after.rss - before.rss)),
    heapMB: Number(mb(after.heap - before.heap)),
    outsideHeapMB: Number(mb(after.outside - before.outside)),
    lookupMicros: Number(sorted.micros.toFixed(2)),
    set: { loadMs: Math.round(setLoadMs), rssMB: Number(mb(setAfter.rss - setBefore.rss)), heapMB: Number(mb(setAfter.heap - setBefore.heap)), lookupMicros: Number(asSet.micros.toFixed(2)) },
  };
  emit('password-blocklist', 'ok', result);
  writeResultsSection(
    'password-blocklist',
    [
      '## password-blocklist',
      '',
      `\`node --expose-gc --import tsx bench/password-blocklist.ts\` — ${new Date().toISOString()}, ${machineLine(machine)}.`,
      '',
      `${list.size.toLocaleString('en-US')} entries, ${(fileBytes / 2 ** 20).toFixed(2)} MiB gzip'd. Memory after a full GC, in this process, before and after loading.`,
      '',
      '| measure | sorted buffer + offsets (shipped) | Set of strings (same run) |',
      '| --- | --- | --- |',
      `| load, once per process | ${result.loadMs} ms | ${result.set.loadMs} ms |`,
      `| resident memory added | ${result.rssMB} MiB | ${result.set.rssMB} MiB |`,
      `| JS heap added | ${result.heapMB} MiB (buffer outside the heap: ${result.outsideHeapMB} MiB) | ${result.set.heapMB} MiB |`,
      `| one check (lowercase NFKC key; ${LOOKUPS.toLocaleString('en-US')} checks, median of ${ROUNDS}) | ${result.lookupMicros} µs | ${result.set.lookupMicros} µs |`,
      '',
      'A check runs only when a password is set, next to an argon2id hash of tens of milliseconds,',
      'so its speed does not matter; the memory every server process keeps does.',
      '',
    ].join('\n'),
  );
}

main();
