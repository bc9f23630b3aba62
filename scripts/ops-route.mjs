// The operator's endpoints, served by scripts/server.mjs from node's own request, ahead of
// the gate and of Next.js: GET/HEAD /healthz (the process answers: no database work),
// /readyz and /metrics (handlers lib/health/ops-routes.ts registers at start-up). Other
// methods: 405. Every answer is `Cache-Control: no-store`, and none carries a version,
// configuration or an error's text.
//
// Also times every request for the request-duration histogram (timeRequest).
import { createRequire } from 'node:module';
import { existingProcessSingleton, processSingleton } from './process-singleton.mjs';

const require = createRequire(import.meta.url);
const securityHeaders = require('../lib/http/security-headers.cjs');
// JSON and plain text only: the strictest policy fits.
const policy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const paths = new Map([
  ['/healthz', 'healthz'],
  ['/readyz', 'readyz'],
  ['/metrics', 'metrics'],
]);

/** The holder lib/health/ops-routes.ts fills; made here with the same shape when this side is first. */
function holder() {
  return processSingleton('ops-routes', () => ({ readiness: null, metrics: null, observeRequest: null, shuttingDown: false }));
}

/** 'healthz' | 'readyz' | 'metrics' for those exact paths (any query), else undefined. */
export function opsRouteFor(req) {
  if (!req.url) return undefined;
  const query = req.url.indexOf('?');
  return paths.get(query === -1 ? req.url : req.url.slice(0, query));
}

/** From now on /readyz answers 503 "shutting_down" (graceful shutdown; lib/health/ops-routes.ts has the same). */
export function markShuttingDown() {
  holder().shuttingDown = true;
}

const json = (status, value) => ({ status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });

async function answerFor(route, req) {
  const routes = holder();
  if (route === 'healthz') return json(200, { status: 'ok' });
  if (route === 'readyz') {
    if (routes.shuttingDown) return json(503, { status: 'unavailable', reason: 'shutting_down' });
    if (!routes.readiness) return json(503, { status: 'unavailable', reason: 'starting' });
    const { status, body } = await routes.readiness();
    return { status, headers: { 'Content-Type': 'application/json' }, body };
  }
  if (!routes.metrics) {
    // Before registration: as the registered handler would answer without a registry.
    return process.env.PORTCULLIS_METRICS_TOKEN
      ? { status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Temporarily unavailable.' }
      : { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Not found.' };
  }
  const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : null;
  return routes.metrics(authorization);
}

export async function serveOps(route, req, res, log) {
  let answer;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    answer = { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Method not allowed.' };
  } else {
    try {
      answer = await answerFor(route, req);
    } catch (err) {
      log?.error({ err, route }, 'operator endpoint failed');
      answer = route === 'readyz' ? json(503, { status: 'unavailable', reason: 'error' }) : { status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Temporarily unavailable.' };
    }
  }
  // A request body (nobody should send one) is not read; drain it so keep-alive stays usable.
  req.resume();
  const body = Buffer.from(answer.body, 'utf8');
  res.statusCode = answer.status;
  for (const name of Object.keys(answer.headers)) res.setHeader(name, answer.headers[name]);
  for (const { key, value } of securityHeaders) res.setHeader(key, value);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('content-security-policy', policy);
  res.setHeader('content-length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Reports the request's route group, status and duration when its response is done (lib/metrics/record.ts observeRequest). */
export function timeRequest(req, res) {
  const observe = existingProcessSingleton('ops-routes')?.observeRequest;
  if (!observe) return;
  const started = performance.now();
  res.once('close', () => observe(req.url || '', res.statusCode, (performance.now() - started) / 1000));
}
