import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * POST /login/submit no longer passes through the middleware gate (middleware.ts matcher),
 * so it must defend itself: same-origin posts only, at most 8 KiB of form whatever the
 * headers say, a repeated credential field refused, and otherwise the sign-in as before.
 * The route runs here as Next.js calls it, on its own SQLite database.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-login-route-'));
const origin = 'http://portal.test';
let POST: (request: Request) => Promise<Response>;

beforeAll(async () => {
  process.env.DATABASE_URL = `file:${path.join(dataDir, 'portal.db')}`;
  process.env.PORTCULLIS_DATA_DIR = dataDir;
  process.env.PORTCULLIS_ORIGIN = origin;
  process.env.PORTCULLIS_SECRET = 'login-route-test-secret-0123456789abcdef';
  ({ POST } = await import('../../../app/login/submit/route'));
  const { getDb } = await import('../../../db');
  const { createUser } = await import('../../../lib/admin/users');
  const { cliActor } = await import('../../../lib/admin/actor');
  const { systemClock } = await import('../../../lib/clock');
  const db = await getDb();
  await createUser(db.kysely, { username: 'alice', password: 'correct horse battery', state: 'active' }, cliActor, systemClock);
});
afterAll(async () => {
  const { getDb } = await import('../../../db');
  await (await getDb()).close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function post(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(`${origin}/login/submit`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
}

const form = (fields: [string, string][]) => new URLSearchParams(fields).toString();

describe('POST /login/submit defends itself', () => {
  it('Alice signs in: 303 to the return path with an HttpOnly session cookie', async () => {
    const res = await POST(post(form([['username', 'alice'], ['password', 'correct horse battery'], ['returnTo', '/apps/demo']])));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/apps/demo');
    expect(res.headers.get('set-cookie')).toMatch(/^portcullis\.session=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  });

  it.each([
    ['another origin', { origin: 'http://evil.example' }],
    ['no Origin or Referer', { origin: '' }],
    ['a Referer from another origin', { origin: '', referer: 'http://evil.example/login' }],
  ])('refuses a post from %s (403), before reading the form', async (_name, headers) => {
    const h: Record<string, string> = { ...headers };
    if (h.origin === '') delete h.origin;
    const req = new Request(`${origin}/login/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...h },
      body: form([['username', 'alice'], ['password', 'correct horse battery']]),
    });
    const res = await POST(req);
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a form declared larger than 8 KiB (413)', async () => {
    const res = await POST(post(form([['username', 'alice'], ['password', 'x'.repeat(9000)]])));
    expect(res.status).toBe(413);
  });

  it('refuses a chunked body that grows past 8 KiB without declaring a length (413)', async () => {
    const chunks = ['username=alice&password=', ...Array.from({ length: 20 }, () => 'y'.repeat(1024))];
    const res = await POST(post(streamOf(chunks)));
    expect(res.status).toBe(413);
  });

  it('accepts a chunked body within the limit', async () => {
    const res = await POST(post(streamOf(['username=ali', 'ce&password=correct%20horse', '%20battery&returnTo=%2Fportal'])));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal');
    expect(res.headers.get('set-cookie')).toMatch(/^portcullis\.session=/);
  });

  it.each([
    ['username', [['username', 'alice'], ['username', 'mallory'], ['password', 'correct horse battery']]],
    ['password', [['username', 'alice'], ['password', 'wrong'], ['password', 'correct horse battery']]],
  ] as [string, [string, string][]][])('refuses a repeated %s field as invalid credentials', async (_name, fields) => {
    const res = await POST(post(form(fields)));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?error=invalid&returnTo=%2Fportal');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('a repeated or foreign return path falls back to /portal', async () => {
    for (const fields of [
      [['returnTo', '/apps/demo'], ['returnTo', '//evil.example']],
      [['returnTo', 'https://evil.example/']],
      [['returnTo', '/\\evil.example']],
    ] as [string, string][][]) {
      const res = await POST(post(form([['username', 'alice'], ['password', 'correct horse battery'], ...fields])));
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/portal');
    }
  });

  it('a wrong password and an unknown user get the same answer', async () => {
    const wrong = await POST(post(form([['username', 'alice'], ['password', 'wrong horse']])));
    const unknown = await POST(post(form([['username', 'nobody'], ['password', 'wrong horse']])));
    expect(wrong.status).toBe(303);
    expect(unknown.status).toBe(303);
    expect(wrong.headers.get('location')).toBe('/login?error=invalid&returnTo=%2Fportal');
    expect(unknown.headers.get('location')).toBe(wrong.headers.get('location'));
  });

  it.each([
    ['text/plain', 'username=alice&password=correct%20horse'],
    ['application/json', JSON.stringify({ username: 'alice', password: 'correct horse battery' })],
  ])('a %s body is not a form: back to the sign-in page', async (type, body) => {
    const res = await POST(post(body, { 'content-type': type }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?error=invalid');
  });

  it('a multipart form (no browser sends one here, but FormData accepted it) still works', async () => {
    const fd = new FormData();
    fd.set('username', 'alice');
    fd.set('password', 'correct horse battery');
    const encoded = new Response(fd);
    const res = await POST(
      new Request(`${origin}/login/submit`, {
        method: 'POST',
        headers: { origin, 'content-type': encoded.headers.get('content-type')! },
        body: await encoded.arrayBuffer(),
      }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal');
  });
});
