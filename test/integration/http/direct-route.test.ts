import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDirectRoute } from '../../../lib/http/direct-routes';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { directHandlerFor, serveDirect } from '../../../scripts/direct-route.mjs';

/**
 * scripts/server.mjs serves registered public routes without Next.js, for
 * the sign-in's throughput (bench/RESULTS.md, "Speed machinery"). These specify the adapter: the handler sees the request as Next would
 * hand it over, and its answer reaches the client with the portal's security headers.
 */
describe('routes served by the entry server itself', () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    // What the handler received, sent back as JSON, and two cookies.
    registerDirectRoute('POST', '/test/echo', async (request) => {
      const body = await request.text();
      const headers = new Headers({ 'content-type': 'application/json', location: '/somewhere' });
      headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
      headers.append('set-cookie', 'b=2; Path=/; HttpOnly');
      return new Response(
        JSON.stringify({
          method: request.method,
          url: request.url,
          body,
          clientIp: request.headers.get('x-portcullis-client-ip'),
          entry: request.headers.get('x-portcullis-entry'),
          forwardedFor: request.headers.get('x-forwarded-for'),
          origin: request.headers.get('origin'),
        }),
        { status: 303, headers },
      );
    });
    registerDirectRoute('POST', '/test/broken', async () => {
      throw new Error('handler bug');
    });
    server = http.createServer((req, res) => {
      // As server.mjs does: the entry headers are decided from the socket, not the client.
      req.headers['x-portcullis-client-ip'] = '203.0.113.7';
      req.headers['x-portcullis-entry'] = 'entry-token';
      req.headers['x-forwarded-for'] = '203.0.113.7';
      const direct = directHandlerFor(req);
      if (direct) serveDirect(direct, req, res);
      else {
        res.statusCode = 299;
        res.end('next.js would serve this');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, redirect: 'manual' });

  it('hands the handler the method, the URL on the request host, the streamed body and the entry headers', async () => {
    const body = 'username=ada&password=' + 'x'.repeat(50_000);
    const res = await post('/test/echo?returnTo=%2Fportal', body, {
      origin: 'http://example.test',
      // A client claiming an address or the entry token is not believed.
      'x-portcullis-client-ip': '10.9.9.9',
      'x-portcullis-entry': 'forged',
      'x-forwarded-for': '10.9.9.9',
    });
    expect(res.status).toBe(303);
    const seen = await res.json();
    expect(seen).toEqual({
      method: 'POST',
      url: `${base}/test/echo?returnTo=%2Fportal`,
      body,
      clientIp: '203.0.113.7',
      entry: 'entry-token',
      forwardedFor: '203.0.113.7',
      origin: 'http://example.test',
    });
  });

  it("answers with the handler's status, headers and every cookie, plus the portal's security headers", async () => {
    const res = await post('/test/echo', 'a=1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/somewhere');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/; HttpOnly']);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('fails closed with a plain 503 when the handler throws', async () => {
    const res = await post('/test/broken', 'a=1');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('Temporarily unavailable.');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('matches method and path exactly; every other spelling goes to Next.js', async () => {
    for (const path of ['/test/echo/', '/Test/echo', '/test/%65cho', '/test//echo', '/test/echo.json']) {
      expect((await post(path, 'a=1')).status, path).toBe(299);
    }
    expect((await fetch(`${base}/test/echo`)).status).toBe(299);
  });
});
