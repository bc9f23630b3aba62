'use strict';
// The one structured logger (pino), in CommonJS so that the plain-node entry scripts
// (scripts/*.mjs) and the TypeScript app share it: JSON lines in production, pino-pretty in
// development. Both write synchronously on the calling thread: pino's transports run in
// worker threads, which Next.js's bundled server cannot start.
const { randomUUID } = require('node:crypto');
const pino = require('pino');

/**
 * The entry (scripts/server.mjs) gives each request an id and hands it to the app in this
 * header, beside its per-process entry token (lib/auth/client-ip.ts): a header without the
 * right token is a client's own and is ignored.
 */
const requestIdHeader = 'x-portcullis-request-id';
const entryTokenHeader = 'x-portcullis-entry';
const requestIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A fresh id for one request. */
function newRequestId() {
  return randomUUID();
}

/** The request id the entry put on these headers, or undefined. */
function requestIdFrom(headers) {
  const expected = process.env.PORTCULLIS_ENTRY_TOKEN;
  if (!expected || !headers || typeof headers.get !== 'function' || headers.get(entryTokenHeader) !== expected) return undefined;
  const id = headers.get(requestIdHeader);
  return typeof id === 'string' && requestIdPattern.test(id) ? id : undefined;
}

/**
 * The request id of the page, action or route handler Next.js is running now, from the
 * request store it keeps in a process-wide AsyncLocalStorage (the one behind `headers()`,
 * which is async and so unusable in a log call). The headers there are the ones the entry
 * set, with the entry token to check. Found by name on globalThis; should a Next.js version
 * keep it elsewhere, lines go out without an id rather than with a wrong one.
 */
let nextStorage = null;
function nextRequestId() {
  try {
    if (!nextStorage) {
      const key = Object.getOwnPropertySymbols(globalThis).find((k) => (k.description || '').startsWith('@next/work-unit-async-storage@'));
      if (!key) return undefined;
      nextStorage = globalThis[key];
    }
    const store = nextStorage.getStore();
    return store && store.type === 'request' ? requestIdFrom(store.headers) : undefined;
  } catch {
    return undefined;
  }
}

const boundId = Symbol('portcullis.reqId');

/**
 * Fields that may carry a credential wherever they sit (top level or one level down), and
 * request/response headers. A call site never logs these on purpose; this catches mistakes.
 */
const secretKeys = ['password', 'newPassword', 'currentPassword', 'code', 'codes', 'recoveryCodes', 'secret', 'token', 'apiKey', 'key', 'cookie', 'cookies', 'authorization', 'sessionToken'];
const redactPaths = [
  ...secretKeys.flatMap((k) => [k, `*.${k}`]),
  ...['headers', '*.headers'].flatMap((h) => [`${h}.cookie`, `${h}.authorization`, `${h}["set-cookie"]`, `${h}["x-portcullis-entry"]`]),
];

/**
 * Errors as name, message, code and stack only: a driver's error can carry more (PostgreSQL's
 * `detail` quotes the row values behind a constraint violation), so nothing else is copied.
 * The code goes out as `errorCode`, since `*.code` is redacted (a TOTP code).
 */
function errorSerializer(err) {
  if (!err || typeof err !== 'object') return { message: String(err) };
  return { type: err.name, message: err.message, ...(err.code !== undefined ? { errorCode: String(err.code) } : {}), stack: err.stack };
}

function prettyStream() {
  try {
    // A devDependency: absent from production installs, then JSON it is.
    return require('pino-pretty')({ sync: true, colorize: !!process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return null;
  }
}

/**
 * options.destination: a stream to write to (tests); options.json: JSON lines even in
 * development. LOG_LEVEL picks the level (default info); NODE_ENV=production picks JSON.
 */
function createLogger(options = {}) {
  const json = options.json || process.env.NODE_ENV === 'production';
  const destination = options.destination || (!json && prettyStream()) || pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level || process.env.LOG_LEVEL || 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { err: errorSerializer },
      mixin(_merge, _level, logger) {
        if (logger[boundId]) return {};
        const reqId = nextRequestId();
        return reqId ? { reqId } : {};
      },
    },
    destination,
  );
}

let shared = null;

/** This module instance's logger, created on first use (after the entry has set NODE_ENV). */
function getLogger() {
  return shared || (shared = createLogger());
}

/**
 * A logger whose lines carry the request id on `headers` (a Request's, or middleware's),
 * for code Next.js runs outside its request store: the gate, and routes the entry serves
 * directly. Elsewhere the plain logger finds the id itself.
 */
function loggerFor(headers, logger = getLogger()) {
  const reqId = requestIdFrom(headers);
  if (!reqId) return logger;
  const child = logger.child({ reqId });
  child[boundId] = true;
  return child;
}

module.exports = { createLogger, getLogger, loggerFor, newRequestId, redactPaths, requestIdFrom, requestIdHeader };
