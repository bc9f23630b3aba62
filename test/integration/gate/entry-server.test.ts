import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { encodeSessionCookie, sessionCookieName } from '../../../lib/auth/cookie';
import { createSession } from '../../../lib/auth/sessions';
import { createEntryGate, registerEntryGate } from '../../../lib/gate/entry-gate';
import { portalResources } from '../../../portcullis.config';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { gateAtEntry, stripGateHeaders } from '../../../scripts/entry-gate.mjs';
import { dialects, freshDb } from '../support/dialects';

process.env.PORTCULLIS_SECRET ??= 'entry-gate-test-secret-0123456789abcdef';
process.env.PORTCULLIS_ORIGIN = 'http://127.0.0.1:3000';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const silent = { error: () => undefined };

/*
 * scripts/entry-gate.mjs as scripts/server.mjs uses it, on a real node:http server whose
 * "Next.js" echoes the headers it was handed. Personas: Ada, signed in; Mallory, who sends
 * the decided marker and her own nonce headers.
 */
describe.each(dialects)('the entry server with the gate registered, on %s', (dialect) => {
  let db: Db;
  let server: http.Server;
  let base = '';
  let adaCookie = '';

  beforeEach(async () => {
    const clock = manualClock(start);
    db = await freshDb(dialect);
    const { id } = await createUser(db.kysely, { username: 'ada', password: 'long enough passphrase', state: 'active' }, cliActor, clock);
    adaCookie = `${sessionCookieName()}=${await encodeSessionCookie(await createSession(db.kysely, id, { ip: '127.0.0.1', userAgent: 'test' }, clock))}`;
    registerEntryGate(createEntryGate({ resources: portalResources, clock, db: async () => db }));
    server = http.createServer(async (req, res) => {
      stripGateHeaders(req);
      if (await gateAtEntry(req, res, '127.0.0.1', silent)) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.headers));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });

  const mallorysHeaders = {
    'x-portcullis-gate-decided': '1',
    'x-nonce': 'AAAAAAAAAAAAAAAAAAAAAA==',
    'content-security-policy': "script-src 'unsafe-inline'",
  };

  it('Ada, allowed, reaches Next.js marked decided, with the nonce in x-nonce, in the request CSP and in the response CSP', async () => {
    const response = await fetch(`${base}/portal`, { headers: { cookie: adaCookie, ...mallorysHeaders } });
    expect(response.status).toBe(200);
    const handed = (await response.json()) as Record<string, string>;
    expect(handed['x-portcullis-gate-decided']).toBe('1');
    expect(handed['x-nonce']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(handed['x-nonce']).not.toBe(mallorysHeaders['x-nonce']);
    expect(handed['content-security-policy']).toContain(`'nonce-${handed['x-nonce']}'`);
    expect(response.headers.get('content-security-policy')).toBe(handed['content-security-policy']);
  });

  it('Mallory, not signed in, is answered by the entry: 303 to sign in, the policy and security headers, nothing reaches Next.js', async () => {
    const response = await fetch(`${base}/admin/users?x=1`, { headers: mallorysHeaders, redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/login?returnTo=${encodeURIComponent('/admin/users?x=1')}`);
    expect(response.headers.get('content-security-policy')).toMatch(/'nonce-[A-Za-z0-9+/]{22}=='/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('');
  });

  it("a path the entry doesn't decide goes on unmarked, with Mallory's marker and nonce headers gone (the middleware decides it)", async () => {
    const response = await fetch(`${base}/login`, { headers: mallorysHeaders });
    const handed = (await response.json()) as Record<string, string>;
    for (const name of Object.keys(mallorysHeaders)) expect(handed[name], name).toBeUndefined();
    expect(response.headers.get('content-security-policy')).toBeNull();
  });
});
