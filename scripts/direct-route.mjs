// Serves a route handler registered in lib/http/direct-routes.ts straight from node:http,
// without Next.js's pipeline: the node request becomes a web Request (body streamed, never
// buffered here), the handler's Response is written back with the portal's security headers.
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { forwardingHeaders } from './client-address.mjs';
import { existingProcessSingleton } from './process-singleton.mjs';

const require = createRequire(import.meta.url);
const securityHeaders = require('../lib/http/security-headers.cjs');
const logging = require('../lib/log/logger.cjs');
// The registry lib/http/direct-routes.ts fills is the process singleton 'direct-routes'.
// Direct routes answer redirects, JSON and the plain 503 page, never scripts: the strictest
// policy fits (pages served by Next.js get the gate's nonce policy, lib/http/csp.ts).
const directRoutePolicy = "default-src 'none'; style-src-attr 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The registered handler for this request, or undefined (then Next.js serves it). */
export function directHandlerFor(req) {
  const routes = existingProcessSingleton('direct-routes');
  if (!routes || !req.url || !req.method) return undefined;
  const query = req.url.indexOf('?');
  const pathname = query === -1 ? req.url : req.url.slice(0, query);
  return routes.get(`${req.method.toUpperCase()} ${pathname}`);
}

export async function serveDirect(handler, req, res) {
  let response;
  try {
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      // The entry headers were set on req.headers after parsing; take those, not the raw ones.
      if (name === 'x-portcullis-client-ip' || name === 'x-portcullis-entry' || name === 'x-portcullis-request-id' || name === 'x-forwarded-for') continue;
      // Forwarding headers the entry dropped (untrusted peer) stay dropped.
      if (forwardingHeaders.includes(name) && !(name in req.headers)) continue;
      headers.append(name, req.rawHeaders[i + 1]);
    }
    for (const name of ['x-portcullis-client-ip', 'x-portcullis-entry', 'x-portcullis-request-id', 'x-forwarded-for']) {
      if (typeof req.headers[name] === 'string') headers.set(name, req.headers[name]);
    }
    const scheme = req.socket.encrypted ? 'https' : 'http';
    const url = new URL(req.url, `${scheme}://${req.headers.host || 'localhost'}`);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(url, {
      method: req.method,
      headers,
      ...(hasBody ? { body: Readable.toWeb(req), duplex: 'half' } : {}),
    });
    response = await handler(request);
  } catch (err) {
    logging.loggerFor(headersOf(req)).error({ err }, 'direct route failed; failing closed');
    response = new Response('Temporarily unavailable.', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  try {
    const body = response.body ? Buffer.from(await response.arrayBuffer()) : Buffer.alloc(0);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') res.setHeader(name, value);
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    for (const { key, value } of securityHeaders) res.setHeader(key, value);
    res.setHeader('content-security-policy', directRoutePolicy);
    res.setHeader('content-length', body.length);
    res.end(body);
  } catch (err) {
    logging.loggerFor(headersOf(req)).error({ err }, 'direct route could not answer');
    res.destroy();
  }
}

/** The entry's headers of a node request, as the logger reads them. */
function headersOf(req) {
  return { get: (name) => (typeof req.headers[name] === 'string' ? req.headers[name] : null) };
}
