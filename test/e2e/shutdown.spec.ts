import http from 'node:http';
import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { startSmtpSink, type SmtpSink } from '../integration/mail/support/smtp-sink';

/*
 * `npm start` (node scripts/start.mjs) told to stop, as a rolling deploy or `docker stop` does
 * (scripts/graceful-shutdown.mjs). Ada's sign-in is on the wire when SIGTERM arrives and
 * still completes; a message the mail worker holds when the mail server hangs goes back to
 * the queue and is sent, once, as soon as the next server is up.
 */
const password = 'correct horse battery staple';
let portal: Portal | undefined;
let sink: SmtpSink | undefined;

test.afterEach(async () => {
  await portal?.stop();
  await sink?.stop();
  portal = sink = undefined;
});

/** POST /login/submit whose body arrives in two parts; `finish()` sends the rest. */
function slowSignIn(url: string, username: string) {
  const body = new URLSearchParams({ username, password, returnTo: '/portal' }).toString();
  const { port, hostname } = new URL(url);
  const req = http.request({
    host: hostname,
    port,
    method: 'POST',
    path: '/login/submit',
    agent: false,
    headers: { origin: url, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => (res.resume(), resolve(res)));
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  return { response, finish: () => req.end(body.slice(10)) };
}

const logOf = (p: Portal) => fs.readFileSync(p.logFile, 'utf8');

test("Ada's sign-in in flight when SIGTERM arrives completes; new connections are refused meanwhile; npm start exits 0", async () => {
  portal = await startPortal({ npmStart: true, env: { PORTCULLIS_SHUTDOWN_TIMEOUT: '20' } });
  await seedUsers(portal.databaseUrl, [{ username: 'ada', password, state: 'active' }]);

  const ada = slowSignIn(portal.url, 'ada');
  await new Promise((r) => setTimeout(r, 300)); // her request has reached the server
  portal.signal('SIGTERM');
  await expect.poll(() => logOf(portal!), { timeout: 5_000 }).toContain('SIGTERM: shutting down');
  await expect(fetch(`${portal.url}/login`)).rejects.toThrow();

  ada.finish();
  const answer = await ada.response;
  expect(answer.statusCode).toBe(303);
  expect(answer.headers.location).toBe('/portal');
  expect(String(answer.headers['set-cookie'])).toContain('portcullis.session=');

  expect(await portal.exited(10_000)).toBe(0);
  expect(logOf(portal)).toContain('shut down');
});

test('a message held by a hanging mail server at SIGTERM goes back to the queue and the next server sends it at once, exactly once', async () => {
  sink = await startSmtpSink();
  sink.holdData = true;
  portal = await startPortal({ npmStart: true, env: { SMTP_URL: sink.url, PORTCULLIS_SHUTDOWN_TIMEOUT: '2' } });
  const ids = await seedUsers(portal.databaseUrl, [{ username: 'grace', password, state: 'active', email: 'grace@example.com' }]);
  await withDb(portal.databaseUrl, (db) => requireMfaForUsers(db.kysely, { userIds: [ids.grace!] }, cliActor, systemClock));
  await expect.poll(() => sink!.held, { timeout: 15_000 }).toBe(1); // the worker is mid-send

  portal.signal('SIGTERM');
  expect(await portal.exited(10_000)).toBe(0);
  expect(logOf(portal)).toContain('released 1 claimed message(s) for another worker');
  const [held] = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('mail_outbox').selectAll().execute());
  expect(held).toMatchObject({ status: 'pending', locked_by: null });
  expect(held!.next_attempt_at!).toBeLessThanOrEqual(Date.now()); // due now, not after the 5-minute lease
  // The old server's connection died unanswered: the mail server took no responsibility for it.
  await expect.poll(() => sink!.held, { timeout: 5_000 }).toBe(0);
  sink.answerHeld(true);
  expect(sink.received).toHaveLength(0);

  sink.holdData = false;
  await portal.restart();
  const mail = await sink.waitFor((m) => m.to.includes('grace@example.com'), 15_000);
  expect(mail.subject).toContain('Set up multi-factor authentication');
  await new Promise((r) => setTimeout(r, 2_500)); // a second copy would show by the next poll
  expect(sink.received).toHaveLength(1);
  const rows = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('mail_outbox').selectAll().execute());
  expect(rows).toMatchObject([{ status: 'sent', attempts: 2 }]);
});
