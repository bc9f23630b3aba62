// The server entry: Next.js behind a plain node:http server, so the client address comes
// from the socket (R-I1). It is handed to the app in a header with a per-process token;
// a header a client sends itself is discarded here and ignored by the app.
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { clientAddress, dropUntrustedForwarding } from './client-address.mjs';
import { directHandlerFor, serveDirect } from './direct-route.mjs';
import { forwardAuthDeciderFor, serveForwardAuth } from './forward-auth-route.mjs';
import { gateAtEntry, stripGateHeaders } from './entry-gate.mjs';
import { installGracefulShutdown } from './graceful-shutdown.mjs';
import { checkedStartConfig } from './start-config.mjs';
import { opsRouteFor, serveOps, timeRequest } from './ops-route.mjs';
import logging from '../lib/log/logger.cjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entryToken = randomBytes(32).toString('hex');
process.env.PORTCULLIS_ENTRY_TOKEN = entryToken;

// Nothing here reads a variable before the check: Next.js gets PORT and HOST as written (for
// its request URLs), and instrumentation.ts register(), which app.prepare() starts, checks
// them and every other variable (lib/config/start-check.ts). A bad one ends the process
// there, before anything listens: one line naming it, exit code 78. The checked values come
// after (scripts/start-config.mjs waits for them).
const app = next({ dev: false, dir: root, hostname: process.env.HOST || '0.0.0.0', port: process.env.PORT || '3000' });
await app.prepare();
const config = await checkedStartConfig();
const { port, host: hostname, trustedProxies: trusted } = config;
// HSTS once the portal is served over https (PORTCULLIS_ORIGIN): browsers then refuse plain http for a year.
const hsts = config.origin.startsWith('https://') ? 'max-age=31536000; includeSubDomains' : null;
const log = logging.getLogger();
const handle = app.getRequestHandler();

const server = http.createServer((req, res) => {
  // Every request gets an id of ours, on the response and, beside the entry token, to the
  // app for its log lines (lib/log). A client's own X-Request-Id is dropped, not adopted: it
  // could forge another request's id or smuggle text into the log.
  const reqId = logging.newRequestId();
  // The request-duration histogram, by route group (scripts/ops-route.mjs).
  timeRequest(req, res);
  delete req.headers['x-request-id'];
  // Only the entry gate may mark a request decided or hand Next.js a nonce.
  stripGateHeaders(req);
  req.headers[logging.requestIdHeader] = reqId;
  res.setHeader('X-Request-Id', reqId);
  // A server action that redirects is answered with the target page, which Next.js fetches
  // from this server and copies headers from: the response keeps this request's id.
  res.setHeader = keepRequestId(res.setHeader);
  const ip = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
  req.headers['x-portcullis-client-ip'] = ip;
  req.headers['x-portcullis-entry'] = entryToken;
  // Next.js fills X-Forwarded-For only when absent; make it say what we decided.
  req.headers['x-forwarded-for'] = ip;
  // X-Forwarded-Host/-Proto/-Port and Forwarded only from a trusted proxy: Next.js checks a
  // server action's Origin against X-Forwarded-Host, so a client must not choose it.
  dropUntrustedForwarding(req.headers, req.socket.remoteAddress, trusted);
  if (hsts) res.setHeader('Strict-Transport-Security', hsts);
  logging.runWithRequestId(reqId, () => serve(req, res, ip));
});

async function serve(req, res, ip) {
  // /healthz, /readyz, /metrics: ahead of the gate and of Next.js (scripts/ops-route.mjs).
  const ops = opsRouteFor(req);
  if (ops) return serveOps(ops, req, res, log);
  // The forward-auth endpoints, from node's request (scripts/forward-auth-route.mjs).
  const forwardAuth = forwardAuthDeciderFor(req);
  if (forwardAuth) return serveForwardAuth(forwardAuth, req, res);
  // The portal's own protected paths are decided here, ahead of Next.js (lib/gate/entry-gate.ts).
  if (await gateAtEntry(req, res, ip, log)) return;
  // A few public routes are served without Next.js's pipeline (lib/http/direct-routes.ts).
  const direct = directHandlerFor(req);
  return direct ? serveDirect(direct, req, res) : handle(req, res);
}

function keepRequestId(setHeader) {
  return function (name, value) {
    return String(name).toLowerCase() === 'x-request-id' ? this : setHeader.call(this, name, value);
  };
}
server.requestTimeout = 30_000;
server.headersTimeout = 20_000;
server.listen(port, hostname, () => {
  log.info(`Portcullis listening on http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port}`);
});

// SIGTERM and SIGINT: finish what is in flight, release claimed mail, close the pool (graceful-shutdown.mjs).
installGracefulShutdown({ server, log, timeoutMs: config.shutdownTimeoutSeconds * 1000 });
