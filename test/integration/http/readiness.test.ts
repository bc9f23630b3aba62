import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db, type DialectName } from '../../../db';
import { migrations } from '../../../db/migrations';
import { systemClock } from '../../../lib/clock';
import { registerOpsRoutes } from '../../../lib/health/ops-routes';
import { startMailWorker, type RunningWorker } from '../../../lib/mail/worker';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { markShuttingDown, opsRouteFor, serveOps } from '../../../scripts/ops-route.mjs';
import { freePort } from '../../support/local-processes';
import { outboxTransport } from '../../../lib/mail/transport';
import { dialects, freshDb } from '../support/dialects';

/*
 * /healthz and /readyz as the entry server serves them (scripts/ops-route.mjs on a real
 * node:http server), with the readiness handler lib/health/ops-routes.ts registers, on real
 * databases: a database that answers, one that is down or hangs, one a migration behind, and
 * a mail worker that stopped finishing rounds. Persona: the load balancer, which probes.
 */
const logged: { level: string; err?: unknown; message?: string }[] = [];
const log = {
  warn: (a: unknown, b?: string) => void logged.push(typeof a === 'string' ? { level: 'warn', message: a } : { level: 'warn', ...(a as object), message: b }),
  info: (a: unknown) => void logged.push({ level: 'info', message: String(a) }),
};

let server: http.Server;
let base = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const route = opsRouteFor(req);
    if (route) void serveOps(route, req, res, { error: () => undefined });
    else {
      res.statusCode = 299;
      res.end('next.js would serve this');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.ops-routes')];
});

const probe = async (p: string, init: RequestInit = {}) => {
  const response = await fetch(`${base}${p}`, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
};
const readyz = async () => {
  const r = await probe('/readyz');
  return { status: r.status, body: JSON.parse(r.text) as Record<string, string> };
};

describe('/healthz', () => {
  it('answers 200 without asking the database, GET and HEAD alike, never cached', async () => {
    registerOpsRoutes({ db: () => Promise.reject(new Error('healthz must not open the database')), mailWorker: () => null, log });
    const got = await probe('/healthz');
    expect(got.status).toBe(200);
    expect(JSON.parse(got.text)).toEqual({ status: 'ok' });
    expect(got.headers.get('cache-control')).toBe('no-store');
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await probe('/healthz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('refuses other methods with 405 and Allow, on each operator path', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics']) {
      const got = await probe(p, { method: 'POST', body: 'x' });
      expect(got.status, p).toBe(405);
      expect(got.headers.get('allow')).toBe('GET, HEAD');
      expect(got.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('serves /metrics only while PORTCULLIS_METRICS_TOKEN is set, and only with it', async () => {
    registerOpsRoutes({ db: () => Promise.reject(new Error('not used')), mailWorker: () => null, log });
    const token = 'readiness-test-token-0123456789abcdef0123';
    delete process.env.PORTCULLIS_METRICS_TOKEN;
    expect((await probe('/metrics', { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    process.env.PORTCULLIS_METRICS_TOKEN = token;
    try {
      const refused = await probe('/metrics');
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect((await probe('/metrics', { headers: { authorization: `Bearer ${token}0` } })).status).toBe(401);
      const served = await probe('/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(served.headers.get('cache-control')).toBe('no-store');
      expect(served.text).toContain('# TYPE portcullis_gate_decisions_total counter');
    } finally {
      delete process.env.PORTCULLIS_METRICS_TOKEN;
    }
  });

  it('leaves every other path to Next.js', async () => {
    expect((await probe('/healthz/x')).status).toBe(299);
    expect((await probe('/readyz.json')).status).toBe(299);
  });
});

describe.each(dialects)('/readyz on %s', (dialect: DialectName) => {
  let db: Db | undefined;
  let worker: RunningWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await db?.close();
    db = undefined;
    logged.length = 0;
  });

  it('answers 200 {"status":"ok"} when the database answers with every migration recorded and the worker is recent', async () => {
    const opened = (db = await freshDb(dialect));
    worker = startMailWorker({ db: opened, transport: outboxTransport(null), clock: systemClock, config: { origin: 'http://127.0.0.1', from: 'p@example.com', reminderOffsetsMs: [] } }, { pollMs: 60_000 });
    const running = worker;
    registerOpsRoutes({ db: async () => opened, mailWorker: () => running, log });
    const got = await probe('/readyz');
    expect(got.status).toBe(200);
    expect(JSON.parse(got.text)).toEqual({ status: 'ok' });
    expect(got.headers.get('cache-control')).toBe('no-store');
    expect((await probe('/readyz', { method: 'HEAD' })).status).toBe(200);
  });

  it('answers 503 "migrations" when the database lacks one of this version’s migrations, and 200 with a newer version’s extra one', async () => {
    const opened = (db = await freshDb(dialect));
    registerOpsRoutes({ db: async () => opened, mailWorker: () => null, log });
    const names = Object.keys(migrations(dialect));
    const last = names[names.length - 1]!;
    await sql`insert into kysely_migration (name, timestamp) values ('999-from-a-newer-version', '2030-01-01T00:00:00.000Z')`.execute(opened.kysely);
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ok' } });
    await sql`delete from kysely_migration where name = ${last}`.execute(opened.kysely);
    expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'migrations' } });
    expect(logged.some((l) => l.message?.includes('lacks 1 of this version'))).toBe(true);
  });

  it('answers 503 "mail_worker" when the worker in this process has not finished a round for too long', async () => {
    const opened = (db = await freshDb(dialect));
    // One round at start, then none for a minute: stale after 300 ms here.
    worker = startMailWorker({ db: opened, transport: outboxTransport(null), clock: systemClock, config: { origin: 'http://127.0.0.1', from: 'p@example.com', reminderOffsetsMs: [] } }, { pollMs: 60_000 });
    const running = worker;
    const started = running.lastRoundAt();
    while (running.lastRoundAt() === started) await new Promise((r) => setTimeout(r, 20));
    registerOpsRoutes({ db: async () => opened, mailWorker: () => running, mailWorkerStaleMs: 300, log });
    expect((await readyz()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'mail_worker' } });
    running.wake();
    while (performance.now() - running.lastRoundAt() > 300) await new Promise((r) => setTimeout(r, 20));
    expect((await readyz()).status).toBe(200);
  });

  it('answers 503 "database" when the database is down, with no driver text in the answer (it is logged)', async () => {
    let url: string;
    let dir: string | undefined;
    if (dialect === 'postgres') {
      url = `postgres://postgres@127.0.0.1:${await freePort()}/portcullis`; // nothing listens there
    } else {
      // A file that is not a database: SQLite refuses it when the handle is opened.
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-ready-'));
      url = `file:${path.join(dir, 'portcullis.db')}`;
      fs.writeFileSync(path.join(dir, 'portcullis.db'), 'this is not a SQLite database, it is a text file '.repeat(100));
    }
    const opened: Db[] = [];
    registerOpsRoutes({ db: async () => opened[opened.push(createDb(url, dir)) - 1]!, mailWorker: () => null, log });
    try {
      const got = await probe('/readyz');
      expect(got.status).toBe(503);
      expect(JSON.parse(got.text)).toEqual({ status: 'unavailable', reason: 'database' });
      expect(got.text).not.toMatch(/ECONNREFUSED|not a database|SQLITE|127\.0\.0\.1|postgres/i);
      expect(logged.filter((l) => l.level === 'warn' && l.err)).toHaveLength(1);
      // Probes keep coming while it is down: one log line for the outage, not one per probe.
      expect((await readyz()).status).toBe(503);
      expect(logged.filter((l) => l.level === 'warn')).toHaveLength(1);
    } finally {
      for (const d of opened) await d.close().catch(() => undefined);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 "database" within its deadline when the database hangs', async () => {
    // PostgreSQL: a server that accepts the connection and never says a word. SQLite: a write
    // lock held by another handle in this process (its queue: db/sqlite-file-lock.ts).
    let hung: net.Server | undefined;
    const sockets = new Set<net.Socket>();
    let handle: Db;
    let release: (() => void) | undefined;
    if (dialect === 'postgres') {
      hung = net.createServer((s) => void sockets.add(s));
      await new Promise<void>((resolve) => hung!.listen(0, '127.0.0.1', resolve));
      handle = createDb(`postgres://postgres@127.0.0.1:${(hung.address() as AddressInfo).port}/portcullis`);
    } else {
      handle = db = await freshDb(dialect);
      const holding = new Promise<void>((resolve) => (release = resolve));
      let held!: () => void;
      const locked = new Promise<void>((resolve) => (held = resolve));
      void handle.kysely.transaction().execute(async () => {
        held();
        await holding;
      });
      await locked;
    }
    registerOpsRoutes({ db: async () => handle, mailWorker: () => null, timeoutMs: 300, log });
    try {
      const startedAt = performance.now();
      expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'database' } });
      expect(performance.now() - startedAt).toBeLessThan(2_000);
    } finally {
      release?.();
      for (const s of sockets) s.destroy();
      if (hung) {
        await new Promise((resolve) => hung!.close(resolve));
        await handle.close().catch(() => undefined);
      }
    }
  });
});

describe('/readyz while shutting down', () => {
  it('answers 503 "shutting_down" once the entry server marks it, without probing', async () => {
    registerOpsRoutes({ db: () => Promise.reject(new Error('not probed while draining')), mailWorker: () => null, log });
    markShuttingDown();
    expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'shutting_down' } });
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.ops-routes')];
  });

  it('answers 503 "starting" before the handlers are registered', async () => {
    expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'starting' } });
  });
});
