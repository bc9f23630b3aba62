// bench probe: preloaded into a benchmark server (node --require bench/support/probe.cjs
// scripts/server.mjs) to count, per request, what the request path did:
//   - HTTP requests the server received;
//   - SQL statements run through better-sqlite3, and among them session-row lookups
//     (SELECTs reading "sessions") and session-row writes;
//   - key derivations: argon2 (hash/verify), pbkdf2, scrypt, HKDF, WebCrypto deriveBits/Key.
// On SIGUSR2 it writes the counts since the last signal to $PORTCULLIS_BENCH_PROBE_FILE
// (atomically, via rename) and starts counting from zero. Only the benches use it; the
// app is not changed, and the measured throughput runs never load it.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const crypto = require('node:crypto');
const path = require('node:path');

const out = process.env.PORTCULLIS_BENCH_PROBE_FILE;
if (!out) throw new Error('probe.cjs needs PORTCULLIS_BENCH_PROBE_FILE');

function zero() {
  return {
    requests: 0,
    sql: 0,
    sessionSelects: 0,
    sessionWrites: 0,
    argon2: 0,
    // Time spent inside the argon2 calls themselves (not awaiting their promises): the
    // event loop's share of a hash, which should be next to nothing.
    argon2SyncUs: 0,
    pbkdf2: 0,
    scrypt: 0,
    hkdf: 0,
    webcryptoDerive: 0,
    sessionSqlSamples: [],
  };
}
let counts = zero();

// The app resolves its native modules from its own dir (the server's cwd); so must we,
// or we would patch a second copy of the module.
function appRequire(name) {
  return require(require.resolve(name, { paths: [process.cwd()] }));
}

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request') counts.requests++;
  return emit.call(this, event, ...args);
};

const Sqlite = appRequire('better-sqlite3');
const scratch = new Sqlite(':memory:');
const Statement = Object.getPrototypeOf(scratch.prepare('select 1'));
scratch.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = Statement[method];
  Statement[method] = function (...args) {
    counts.sql++;
    const source = String(this.source);
    if (/\bsessions\b/i.test(source)) {
      if (/^\s*select\b/i.test(source)) counts.sessionSelects++;
      else counts.sessionWrites++;
      if (counts.sessionSqlSamples.length < 4) counts.sessionSqlSamples.push(source.slice(0, 160));
    }
    return original.apply(this, args);
  };
}

const argon2 = appRequire('@node-rs/argon2');
for (const fn of ['hash', 'hashSync', 'hashRaw', 'hashRawSync', 'verify', 'verifySync']) {
  const original = argon2[fn];
  if (typeof original !== 'function') continue;
  argon2[fn] = function (...args) {
    counts.argon2++;
    const t0 = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      counts.argon2SyncUs += Number(process.hrtime.bigint() - t0) / 1e3;
    }
  };
}

function wrap(target, name, key) {
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = function (...args) {
    counts[key]++;
    return original.apply(this, args);
  };
}
wrap(crypto, 'pbkdf2', 'pbkdf2');
wrap(crypto, 'pbkdf2Sync', 'pbkdf2');
wrap(crypto, 'scrypt', 'scrypt');
wrap(crypto, 'scryptSync', 'scrypt');
wrap(crypto, 'hkdf', 'hkdf');
wrap(crypto, 'hkdfSync', 'hkdf');
const subtleProto = Object.getPrototypeOf(crypto.webcrypto.subtle);
wrap(subtleProto, 'deriveBits', 'webcryptoDerive');
wrap(subtleProto, 'deriveKey', 'webcryptoDerive');

process.on('SIGUSR2', () => {
  const snapshot = counts;
  counts = zero();
  const tmp = `${out}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(tmp, JSON.stringify(snapshot));
  fs.renameSync(tmp, out);
});
