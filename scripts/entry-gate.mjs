// The portal's gate ahead of Next.js (lib/gate/entry-gate.ts decides; this file only moves
// node:http requests in and answers out). A request the gate decided and allowed goes to
// Next.js marked, with the CSP nonce the middleware would have given it, and middleware.ts
// does not run for it (its matcher's `missing`); every other request goes on unmarked and
// the middleware decides it as before.
import { createRequire } from 'node:module';
import { existingProcessSingleton } from './process-singleton.mjs';

const require = createRequire(import.meta.url);
const securityHeaders = require('../lib/http/security-headers.cjs');
// The holder lib/gate/entry-gate.ts fills is the process singleton 'entry-gate'.
// lib/gate/entry-gate.ts gateDecidedHeader; middleware.ts's matcher names it too.
export const gateDecidedHeader = 'x-portcullis-gate-decided';

/**
 * Removes what only the entry may say about a request: the decided marker and the nonce
 * headers Next.js reads. Called for every request, before anything else looks at it.
 */
export function stripGateHeaders(req) {
  delete req.headers[gateDecidedHeader];
  delete req.headers['x-nonce'];
  delete req.headers['content-security-policy'];
  delete req.headers['content-security-policy-report-only'];
}

/**
 * Runs the registered entry gate on `req`. Returns true when it answered (a refusal was
 * written to `res`); false when the request is to go on to Next.js (marked if allowed).
 */
export async function gateAtEntry(req, res, ip, log) {
  const gate = existingProcessSingleton('entry-gate')?.gate;
  if (!gate || !req.url || !req.method) return false;
  const header = (name) => (typeof req.headers[name] === 'string' ? req.headers[name] : null);
  let verdict;
  try {
    verdict = await gate({
      method: req.method,
      target: req.url,
      cookieHeader: header('cookie'),
      ip,
      userAgent: header('user-agent'),
      headers: { get: header },
    });
  } catch (err) {
    // The gate answers its own failures (503); this is a bug in it. Fail closed.
    log.error({ err }, 'entry gate threw; failing closed');
    res.statusCode = 503;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('Temporarily unavailable.');
    return true;
  }
  if (verdict.kind === 'undecided') return false;
  if (verdict.kind === 'allow') {
    // What the middleware hands a page it lets through (lib/gate/create-mfa-gate.ts proceed()):
    // Next.js reads the nonce from the request's own CSP header and puts it on its scripts.
    req.headers['x-nonce'] = verdict.nonce;
    req.headers['content-security-policy'] = verdict.policy;
    req.headers[gateDecidedHeader] = '1';
    res.setHeader('Content-Security-Policy', verdict.policy);
    return false;
  }
  const { status, headers, body } = verdict.answer;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  for (const { key, value } of securityHeaders) res.setHeader(key, value);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
