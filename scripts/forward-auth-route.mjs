// Serves the forward-auth endpoints (lib/gate/forward-auth.ts) straight from node's request:
// the decider reads node's headers through a case-insensitive get(), and its plain answer is
// written to node's response. Building a web Request and Response for each subrequest (a
// direct route, scripts/direct-route.mjs) costs more CPU than the decision (bench/RESULTS.md,
// "## forward-auth"). The entry server has already dropped untrusted forwarding headers and
// set the client address on req.headers; this reads exactly those.
import { createRequire } from 'node:module';
import { existingProcessSingleton } from './process-singleton.mjs';

const require = createRequire(import.meta.url);
const securityHeaders = require('../lib/http/security-headers.cjs');
const logging = require('../lib/log/logger.cjs');
// The answers carry no content but a short plain-text reason: the strictest policy fits.
const policy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The registered decider for this request's exact path, or undefined. */
export function forwardAuthDeciderFor(req) {
  const routes = existingProcessSingleton('forward-auth-routes');
  if (!routes || !req.url) return undefined;
  const query = req.url.indexOf('?');
  return routes.get(query === -1 ? req.url : req.url.slice(0, query));
}

export async function serveForwardAuth(decide, req, res) {
  const headers = {
    get(name) {
      const value = req.headers[name.toLowerCase()];
      return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : null;
    },
  };
  let answer;
  try {
    answer = await decide(headers);
  } catch (err) {
    logging.loggerFor(headers).error({ err }, 'forward-auth failed; failing closed');
    answer = { status: 503, headers: { 'Cache-Control': 'no-store', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Temporarily unavailable.' };
  }
  // The request body (if a proxy sent one) is not read; drain it so keep-alive stays usable.
  req.resume();
  const body = Buffer.from(answer.body, 'utf8');
  res.statusCode = answer.status;
  for (const name of Object.keys(answer.headers)) res.setHeader(name, answer.headers[name]);
  for (const { key, value } of securityHeaders) res.setHeader(key, value);
  res.setHeader('content-security-policy', policy);
  res.setHeader('content-length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}
