import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NextRequest } from 'next/server';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { createPolicy } from '../../../lib/admin/policies';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { encodeSessionCookie, sessionCookieName } from '../../../lib/auth/cookie';
import { createSession } from '../../../lib/auth/sessions';
import { createEntryGate, cookieValue, type EntryGate, type EntryRequest, type EntryVerdict } from '../../../lib/gate/entry-gate';
import { createMfaGate } from '../../../lib/gate';
import { unavailableHtmlFor } from '../../../lib/gate/unavailable';
import { replaceProcessSingleton } from '../../../lib/process-singletons';
import { portalResources } from '../../../portcullis.config';
import { dialects, freshDb } from '../support/dialects';

process.env.PORTCULLIS_SECRET ??= 'entry-gate-test-secret-0123456789abcdef';
process.env.PORTCULLIS_ORIGIN = 'http://127.0.0.1:3000';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const noHeaders = { get: () => null };

function entryRequest(target: string, cookie: string | null, method = 'GET'): EntryRequest {
  return { method, target, cookieHeader: cookie, ip: '10.20.30.40', userAgent: chromeOnLinux, headers: noHeaders };
}

/** What the verdict means on the wire, in the middleware's terms: continue, or status + Location. */
function outcome(verdict: EntryVerdict): string {
  if (verdict.kind === 'undecided') return 'undecided';
  if (verdict.kind === 'allow') return 'continue';
  return `${verdict.answer.status} ${verdict.answer.headers.location ?? ''}`.trim();
}

/*
 * The entry server's gate (lib/gate/entry-gate.ts) on each dialect: the portal's own paths,
 * decided with the middleware's decision. Personas:
 * - Ada: active, nothing required of her: allowed.
 * - Bob: not signed in.
 * - Cora: MFA required for her (7 days to enroll), nothing enrolled: sent to set up.
 * - Dan: TOTP enrolled (his factor asks for itself): sent to verify.
 * - Eve: a deny policy names her (everyone on 'demo' is denied).
 */
describe.each(dialects)('entry gate on %s', (dialect) => {
  let db: Db;
  let gate: EntryGate;
  const clock = manualClock(start);
  const cookies: Record<string, string> = {};

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    gate = createEntryGate({ resources: portalResources, clock, db: async () => db });
    for (const name of ['ada', 'cora', 'dan']) {
      const { id } = await createUser(db.kysely, { username: name, password: 'long enough passphrase', state: 'active' }, cliActor, clock);
      const token = await createSession(db.kysely, id, { ip: '10.20.30.40', userAgent: chromeOnLinux }, clock);
      cookies[name] = `theme=dark; ${sessionCookieName()}=${await encodeSessionCookie(token)}`;
      if (name === 'cora') await requireMfaForUsers(db.kysely, { userIds: [id], enrollmentDays: 7 }, cliActor, clock);
      if (name === 'dan') {
        await db.kysely
          .insertInto('factors')
          .values({ id: randomUUID(), user_id: id, type: 'totp', name: 'Phone', created_at: start, last_used_at: null, secret_enc: 'x', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
          .execute();
      }
    }
    await createPolicy(
      db.kysely,
      { name: 'Demo closed', enabled: true, scope: 'all', includeGroupIds: [], excludeGroupIds: [], conditions: {}, resources: ['demo'], action: 'deny', priority: 0 },
      cliActor,
      clock,
    );
  });

  afterEach(async () => {
    await db.close();
  });

  it('Ada, signed in with nothing required, is allowed with a fresh nonce and the policy that carries it', async () => {
    const first = await gate(entryRequest('/portal', cookies.ada!));
    const second = await gate(entryRequest('/portal/security?tab=1', cookies.ada!));
    expect(first.kind).toBe('allow');
    expect(second.kind).toBe('allow');
    if (first.kind !== 'allow' || second.kind !== 'allow') return;
    expect(first.nonce).not.toBe(second.nonce);
    expect(first.policy).toContain(`'nonce-${first.nonce}'`);
    expect(first.policy).toContain("'strict-dynamic'");
  });

  it('Bob, not signed in, is sent to sign in and back to the page he asked for', async () => {
    expect(outcome(await gate(entryRequest('/portal/security?tab=2', null)))).toBe(`303 /login?returnTo=${encodeURIComponent('/portal/security?tab=2')}`);
    expect(outcome(await gate(entryRequest('/admin', 'portcullis.session=forged')))).toBe('303 /login?returnTo=%2Fadmin');
  });

  it('Cora, MFA required and nothing enrolled, is sent to set up; Dan to verify his factor', async () => {
    expect(outcome(await gate(entryRequest('/portal', cookies.cora!)))).toBe('303 /mfa/setup?returnTo=%2Fportal');
    expect(outcome(await gate(entryRequest('/portal', cookies.dan!)))).toBe('303 /mfa/verify?returnTo=%2Fportal');
  });

  it('a deny policy on the demo app shows Ada the denied page, with the CSP on the answer', async () => {
    const verdict = await gate(entryRequest('/apps/demo/api/whoami', cookies.ada!));
    expect(outcome(verdict)).toBe('303 /denied');
    if (verdict.kind === 'refuse') expect(verdict.answer.headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/]+={0,2}' 'strict-dynamic'/);
  });

  it('paths are matched as the middleware matches them: case, encodings, dot segments; unreadable ones count as the portal', async () => {
    for (const target of ['/PORTAL', '//portal', '/%70ortal', '/%2570ortal', '/x/../portal', '/login/submit/..%2F..%2Fportal', '/Admin/users']) {
      expect(outcome(await gate(entryRequest(target, null))), target).toMatch(/^303 \/login\?returnTo=/);
    }
    expect(outcome(await gate(entryRequest('/%E0%A4%A', null)))).toMatch(/^303 \/login/);
  });

  it('paths outside the portal resources, and targets it cannot read, are left to Next.js and the middleware', async () => {
    for (const target of ['/login', '/mfa/verify', '/api/health', '/portalx', '/', 'http://evil.example/portal', '*']) {
      expect(outcome(await gate(entryRequest(target, null))), target).toBe('undecided');
    }
  });

  it('the return target is never off-site: a protocol-relative path falls back to the portal', async () => {
    expect(outcome(await gate(entryRequest('//portal', null)))).toBe('303 /login?returnTo=%2Fportal');
  });

  it('R-D10: when the data layer cannot answer, the plain 503 page, never access', async () => {
    const down = createEntryGate({
      resources: portalResources,
      clock,
      db: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      },
    });
    const verdict = await down(entryRequest('/portal', cookies.ada!));
    expect(verdict.kind).toBe('refuse');
    if (verdict.kind !== 'refuse') return;
    expect(verdict.answer.status).toBe(503);
    // Ada holds a session cookie: she is told she is still signed in, not that sign-in is down.
    expect(verdict.answer.body).toBe(unavailableHtmlFor('signed_in'));
    expect(verdict.answer.headers).toMatchObject({ 'retry-after': '30', 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' });
    expect(verdict.answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const stranger = await down(entryRequest('/portal', null));
    expect(stranger.kind === 'refuse' && stranger.answer.body).toBe(unavailableHtmlFor('anyone'));
  });

  it('answers each persona exactly as the middleware gate (createMfaGate) does', async () => {
    replaceProcessSingleton('db', Promise.resolve(db));
    const middleware = createMfaGate({ resources: portalResources, clock });
    for (const [target, cookie] of [
      ['/portal', cookies.ada],
      ['/portal?x=1', null],
      ['/portal', cookies.cora],
      ['/admin/users', cookies.dan],
      ['/apps/demo', cookies.ada],
      ['/PORTAL/%2e%2e/admin', null],
    ] as const) {
      const viaEntry = outcome(await gate(entryRequest(target, cookie ?? null)));
      const answer = await middleware(new NextRequest(`http://127.0.0.1:3000${target}`, { headers: cookie ? { cookie } : {} }));
      // Next.js turns the middleware's same-origin redirect into a path (resolve-routes getRelativeURL).
      const absolute = answer.headers.get('location');
      const location = absolute ? `${new URL(absolute).pathname}${new URL(absolute).search}` : '';
      const viaMiddleware = answer.headers.get('x-middleware-next') === '1' ? 'continue' : `${answer.status} ${location}`;
      expect(viaEntry, `${target} ${cookie ? 'signed in' : 'anonymous'}`).toBe(viaMiddleware);
    }
  });
});

describe('the session cookie as the entry reads it', () => {
  it('is parsed as Next.js parses the Cookie header: the last one wins, undecodable ones are skipped', () => {
    expect(cookieValue('a=1; portcullis.session=abc; b=2', 'portcullis.session')).toBe('abc');
    expect(cookieValue('portcullis.session=first; portcullis.session=second', 'portcullis.session')).toBe('second');
    expect(cookieValue('portcullis.session=ok; portcullis.session=%E0%A4%A', 'portcullis.session')).toBe('ok');
    expect(cookieValue('xportcullis.session=no', 'portcullis.session')).toBeUndefined();
    expect(cookieValue(null, 'portcullis.session')).toBeUndefined();
  });
});
