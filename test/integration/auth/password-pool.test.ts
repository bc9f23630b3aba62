import fs from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hash, verify } from '@node-rs/argon2';
import { PasswordPool } from '../../../lib/auth/password-pool';
import { hashPassword, passwordPool, verifyAgainstDummy, verifyPassword } from '../../../lib/auth/password';

// Cheap argon2id parameters keep the cross-check fast; the pool takes whatever the hash says.
const quick = { algorithm: 2, memoryCost: 256, timeCost: 1, parallelism: 1 } as const;

describe('the password worker pool', () => {
  let pool: PasswordPool;
  const processNice = os.getPriority(process.pid);
  beforeAll(async () => {
    pool = new PasswordPool({ threads: 2, nice: 5 });
    await pool.whenReady();
  });
  afterAll(async () => {
    await pool.close();
  });

  it('gives the same verdicts as argon2 itself, right and wrong passwords, in parallel', async () => {
    const passwords = ['correct horse', 'Ünïcödé pässwörd', 'x', 'a'.repeat(1024), 'with\u0000nul'];
    const hashes = await Promise.all(passwords.map((p) => hash(p, quick)));
    const cases = passwords.flatMap((p, i) => [
      { hash: hashes[i]!, password: p },
      { hash: hashes[i]!, password: `${p}!` },
      { hash: hashes[(i + 1) % hashes.length]!, password: p },
    ]);
    const direct = await Promise.all(cases.map((c) => verify(c.hash, c.password)));
    const pooled = await Promise.all(cases.map((c) => pool.verify(c.hash, c.password)));
    expect(pooled).toEqual(direct);
    expect(pooled.filter(Boolean)).toHaveLength(passwords.length);
  });

  it('verifies the app’s own hashes (OWASP parameters)', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await pool.verify(stored, 'correct horse battery')).toBe(true);
    expect(await pool.verify(stored, 'correct horse battery ')).toBe(false);
  });

  it.each([
    ['garbage', 'not a hash'],
    ['an empty string', ''],
    ['a truncated hash', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ'],
    ['absurd parameters', '$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['a bcrypt hash', '$2b$10$abcdefghijklmnopqrstuuIvW1Y5L7vWc3b9wQnH0kK8n0B3m1x2y'],
  ])('reads %s as a wrong password and keeps working', async (_name, malformed) => {
    expect(await pool.verify(malformed, 'anything')).toBe(false);
    const good = await hash('still fine', quick);
    expect(await pool.verify(good, 'still fine')).toBe(true);
  });

  it('queues more verifies than it has threads, answering each one', async () => {
    const good = await hash('queued', quick);
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => pool.verify(good, i % 3 === 0 ? 'queued' : 'nope')));
    expect(results).toEqual(Array.from({ length: 24 }, (_, i) => i % 3 === 0));
  });

  it.runIf(os.platform() === 'linux' && fs.existsSync('/proc/thread-self'))(
    'its threads lower their own priority, not the process’s',
    async () => {
      expect(pool.nicedThreads).toBe(2);
      expect(os.getPriority(process.pid)).toBe(processNice);
      // /proc/self/task/<tid>/stat, field 19: each thread's own nice value.
      const nices = fs.readdirSync('/proc/self/task').map((tid) => {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
      expect(nices.filter((n) => n === Math.min(19, processNice + 5)).length).toBeGreaterThanOrEqual(2);
    },
  );

  it('fails closed and recovers when a thread dies with verifies handed to it', async () => {
    const lone = new PasswordPool({ threads: 1, nice: 0 });
    await lone.whenReady();
    try {
      const slow = await hash('slow', { ...quick, memoryCost: 65_536, timeCost: 4 });
      // The thread works on the first and holds the second in its queue.
      const first = lone.verify(slow, 'slow').then(
        (ok) => ({ ok }),
        (err: Error) => ({ err }),
      );
      const second = lone.verify(slow, 'slow');
      const worker = (lone as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0]!.worker;
      await worker.terminate();
      // What the thread never answered is an error for the caller, never a verdict.
      await expect(second).rejects.toThrow(/exited/);
      // Native code finishes the verify it is in: its answer, if it got out, is the right one;
      // a verify cut short by the stop is an error, never a "wrong password".
      const outcome = await first;
      if ('ok' in outcome) expect(outcome.ok).toBe(true);
      else expect(outcome.err.message).toMatch(/exited|password verify failed/);
      // A replacement thread takes the next verify.
      const good = await hash('after', quick);
      expect(await lone.verify(good, 'after')).toBe(true);
      expect(await lone.verify(good, 'before')).toBe(false);
    } finally {
      await lone.close();
    }
  });
});

describe('verifyPassword() on the shared pool', () => {
  it('starts one pool per process and answers like argon2', async () => {
    const stored = await hashPassword('shared pool pw');
    expect(await verifyPassword(stored, 'shared pool pw')).toBe(true);
    expect(await verifyPassword(stored, 'shared pool px')).toBe(false);
    expect(await verifyPassword('malformed', 'shared pool pw')).toBe(false);
    const first = await passwordPool();
    expect(first).toBeInstanceOf(PasswordPool);
    expect(await passwordPool()).toBe(first);
    expect(await verifyAgainstDummy('anything')).toBe(false);
  });
});
