'use strict';
// The one structured logger (pino), in CommonJS so that the plain-node entry scripts
// (scripts/*.mjs) and the TypeScript app share it: JSON lines in production, pino-pretty in
// development. Both write synchronously on the calling thread: pino's transports run in
// worker threads, which Next.js's bundled server cannot start.
const { randomUUID } = require('node:crypto');
const { AsyncLocalStorage } = require('node:async_hooks');
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
 * The request id of whatever runs now on behalf of a request. The entry server runs each
 * request's whole handling (Next.js's router, middleware, pages, actions, route handlers,
 * direct routes) inside runWithRequestId(), and AsyncLocalStorage carries the id through
 * every await from there, so a log call anywhere finds it without being handed headers.
 * NOTE: the storage is a process singleton under a Symbol.for key, like those in
 * lib/process-singletons.ts ('request-context'): Next.js bundles this file into its server
 * chunks apart from the copy the entry loads, and both must read the same storage.
 */
const requestContextKey = Symbol.for('portcullis.request-context');
function requestContext() {
  return globalThis[requestContextKey] || (globalThis[requestContextKey] = new AsyncLocalStorage());
}

/** Runs `fn` (and everything it awaits) as part of the request with this id. */
function runWithRequestId(reqId, fn) {
  return requestContext().run({ reqId }, fn);
}

/** The id of the request being handled now, or undefined outside any request. */
function currentRequestId() {
  const store = requestContext().getStore();
  return store ? store.reqId : undefined;
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

/** What LOG_LEVEL may be (pino's levels and `silent`); the start check refuses anything else. */
const logLevels = Object.freeze(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

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
        const reqId = currentRequestId();
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
 * A logger whose lines carry the request id on `headers` (a Request's, or middleware's).
 * The plain logger already finds the id of the request being handled (runWithRequestId());
 * this is for code that holds a request whose handling may not run under the entry server
 * (an app team's middleware mounted behind another server, tests).
 */
function loggerFor(headers, logger = getLogger()) {
  const reqId = requestIdFrom(headers);
  if (!reqId) return logger;
  const child = logger.child({ reqId });
  child[boundId] = true;
  return child;
}

module.exports = { createLogger, logLevels, currentRequestId, getLogger, loggerFor, newRequestId, redactPaths, requestIdFrom, requestIdHeader, runWithRequestId };
