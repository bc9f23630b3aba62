import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetProcessSingleton, existingProcessSingleton, replaceProcessSingleton } from '../../../lib/process-singletons';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { installGracefulShutdown } from '../../../scripts/graceful-shutdown.mjs';
import { shutdownTimeoutMs } from '../../../lib/config/shutdown-timeout.mjs';
import { startServerMailWorker } from '../../../lib/mail/worker';
import { freshDb } from '../support/dialects';

/*
 * The entry server's shutdown (scripts/graceful-shutdown.mjs) on a real node:http server:
 * Ada's sign-in is in flight (her body still arriving) when the deploy sends SIGTERM.
 * test/e2e/shutdown.spec.ts does the same against `npm start` itself.
 */
type Shutdown = (signal: string) => Promise<void>;
const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface World {
  server: http.Server;
  port: number;
  exits: number[];
  shutdown: Shutdown;
}

async function serverThatEchoesBodies(timeoutMs: number): Promise<World> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`got ${Buffer.concat(chunks).length} bytes`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const exits: number[] = [];
  const shutdown = installGracefulShutdown({ server, log: quietLog, timeoutMs, signals: [], exit: (code: number) => exits.push(code) });
  return { server, port: (server.address() as AddressInfo).port, exits, shutdown };
}

/** A POST whose body arrives in two halves; `second()` sends the rest. */
function slowPost(port: number, agent?: http.Agent) {
  const body = 'username=ada&password=' + 'x'.repeat(40);
  const half = Math.floor(body.length / 2);
  const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/login/submit', agent, headers: { 'content-length': body.length } });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, half));
  return { response, second: () => req.end(body.slice(half)), length: body.length };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the entry server shutting down', () => {
  let world: World | undefined;
  afterEach(() => {
    world?.server.closeAllConnections();
    world?.server.close();
    forgetProcessSingleton('ops-routes', existingProcessSingleton('ops-routes'));
  });

  it("finishes Ada's sign-in that is in flight, refuses new connections meanwhile, then exits 0", async () => {
    world = await serverThatEchoesBodies(5_000);
    const ada = slowPost(world.port);
    await sleep(50);

    const done = world.shutdown('SIGTERM');
    // Readiness answers 503 from here on (scripts/ops-route.mjs reads the same flag).
    expect((globalThis as unknown as Record<symbol, { shuttingDown: boolean }>)[Symbol.for('portcullis.ops-routes')]!.shuttingDown).toBe(true);
    expect(await connects(world.port)).toBe(false);
    expect(world.exits).toEqual([]);

    ada.second();
    expect(await ada.response).toEqual({ status: 200, text: `got ${ada.length} bytes` });
    // Her connection (keep-alive) is closed once idle, not after the 5 s keep-alive timeout.
    const answered = performance.now();
    await done;
    expect(performance.now() - answered).toBeLessThan(1_000);
    expect(world.exits).toEqual([0]);
  });

  it('closes a keep-alive connection that sits idle, so it does not hold the shutdown open', async () => {
    world = await serverThatEchoesBodies(5_000);
    const agent = new http.Agent({ keepAlive: true });
    const first = slowPost(world.port, agent);
    first.second();
    await first.response;

    const started = performance.now();
    await world.shutdown('SIGTERM');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(world.exits).toEqual([0]);
    agent.destroy();
  });

  it('cuts a request that is still unfinished at the deadline, and still exits 0', async () => {
    world = await serverThatEchoesBodies(300);
    const stuck = slowPost(world.port);
    stuck.response.catch(() => undefined);
    await sleep(50);

    const started = performance.now();
    await world.shutdown('SIGTERM');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await expect(stuck.response).rejects.toThrow();
    expect(world.exits).toEqual([0]);
  });

  it('exits 1 at once on a second signal (Ctrl-C twice)', async () => {
    world = await serverThatEchoesBodies(5_000);
    const stuck = slowPost(world.port);
    stuck.response.catch(() => undefined);
    await sleep(50);
    const first = world.shutdown('SIGINT');
    void world.shutdown('SIGINT');
    expect(world.exits).toEqual([1]);
    world.server.closeAllConnections();
    await first;
  });

  it("stops the server's mail worker and closes the database pool before exiting", async () => {
    world = await serverThatEchoesBodies(2_000);
    const db = await freshDb('sqlite');
    const worker = startServerMailWorker(async () => db, {});
    replaceProcessSingleton('db', Promise.resolve(db));
    try {
      expect(existingProcessSingleton('mailWorker')).toBe(worker);
      await world.shutdown('SIGTERM');
      expect(existingProcessSingleton('mailWorker')).toBeUndefined();
      await expect(db.kysely.selectFrom('users').select('id').execute()).rejects.toThrow();
      expect(world.exits).toEqual([0]);
    } finally {
      forgetProcessSingleton('db', existingProcessSingleton('db'));
      await db.close().catch(() => undefined);
    }
  });
});

describe('PORTCULLIS_SHUTDOWN_TIMEOUT', () => {
  it('is 25 s when unset, else whole seconds from 1 to 600', () => {
    expect(shutdownTimeoutMs(undefined)).toBe(25_000);
    expect(shutdownTimeoutMs('')).toBe(25_000);
    expect(shutdownTimeoutMs('1')).toBe(1_000);
    expect(shutdownTimeoutMs(' 600 ')).toBe(600_000);
    for (const bad of ['0', '601', '2.5', '10s', '-1', 'soon']) {
      expect(() => shutdownTimeoutMs(bad)).toThrow(/^PORTCULLIS_SHUTDOWN_TIMEOUT ".*": must be whole seconds from 1 to 600$/);
    }
  });
});
