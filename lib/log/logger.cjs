'use strict';
// The one structured logger (pino), in CommonJS so that the plain-node entry scripts
// (scripts/*.mjs) and the TypeScript app share it: JSON lines in production, pino-pretty in
// development. Both write synchronously on the calling thread: pino's transports run in
// worker threads, which Next.js's bundled server cannot start.
const { AsyncLocalStorage } = require('node:async_hooks');
const { randomUUID } = require('node:crypto');
const pino = require('pino');

/**
 * The request a line belongs to. scripts/server.mjs runs every request inside it; the store
 * lives on globalThis because the entry script and each Next.js bundle load this file as
 * separate module instances, and all of them must see the same one.
 */
const contextKey = Symbol.for('portcullis.request-context');
const requestContext = globalThis[contextKey] || (globalThis[contextKey] = new AsyncLocalStorage());

/** A fresh id for one request. */
function newRequestId() {
  return randomUUID();
}

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
      mixin() {
        const store = requestContext.getStore();
        return store ? { reqId: store.reqId } : {};
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

module.exports = { createLogger, getLogger, newRequestId, requestContext, redactPaths };
