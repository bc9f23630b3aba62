import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeclaredResources } from '../../../lib/gate/declared-resources';
import { registerForwardAuthRoutes } from '../../../lib/gate/forward-auth';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { forwardAuthDeciderFor, serveForwardAuth } from '../../../scripts/forward-auth-route.mjs';

/*
 * The entry server's node-level path for the forward-auth endpoints: it finds the deciders
 * instrumentation.ts registers, reads node's headers case-insensitively and writes the plain
 * answer with the portal's security headers. Only answers that need no database here (the
 * decisions themselves are test/integration/gate/forward-auth.test.ts).
 */
const resources = buildDeclaredResources('https://portal.example.test', 'app.example.test=wiki');
let server: http.Server;
let base = '';

beforeAll(async () => {
  registerForwardAuthRoutes({ resources: () => resources, db: () => Promise.reject(new Error('no database in this test')) });
  server = http.createServer((req, res) => {
    const decide = forwardAuthDeciderFor(req);
    if (!decide) return void res.writeHead(404).end();
    void serveForwardAuth(decide, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('forward-auth from node request to node response', () => {
  it('serves both paths exactly (any query), nothing near them', () => {
    expect(forwardAuthDeciderFor({ url: '/api/authz/forward-auth?x=1' })).toBeTypeOf('function');
    expect(forwardAuthDeciderFor({ url: '/api/authz/auth-request' })).toBeTypeOf('function');
    for (const url of ['/api/authz/forward-auth/', '/api/authz/Forward-Auth', '/api/authz/forward-auth/../auth-request']) expect(forwardAuthDeciderFor({ url })).toBeUndefined();
  });

  it('reads the headers whatever their case; an undeclared host is /denied without the database', async () => {
    const response = await fetch(`${base}/api/authz/forward-auth`, {
      redirect: 'manual',
      headers: { 'X-Forwarded-Method': 'POST', 'x-forwarded-proto': 'https', 'X-FORWARDED-HOST': 'intranet.example.test', 'X-Forwarded-Uri': '/' },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('https://portal.example.test/denied');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('400 naming the missing header; 503 when the data layer fails, for any subrequest method', async () => {
    const missing = await fetch(`${base}/api/authz/auth-request`, { headers: { 'x-original-method': 'GET' } });
    expect([missing.status, await missing.text()]).toEqual([400, 'Missing X-Original-URL header.']);
    for (const method of ['GET', 'POST', 'DELETE']) {
      const down = await fetch(`${base}/api/authz/auth-request`, { method, headers: { 'x-original-method': 'GET', 'x-original-url': 'https://app.example.test/' } });
      expect(down.status).toBe(503);
      expect(down.headers.get('remote-user')).toBeNull();
    }
  });
});
