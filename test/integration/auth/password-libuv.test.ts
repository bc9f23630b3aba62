import { describe, expect, it } from 'vitest';
import { hash } from '@node-rs/argon2';
import { hashPassword, passwordPool, verifyAgainstDummy, verifyPassword } from '../../../lib/auth/password';

// PORTCULLIS_PASSWORD_THREADS=0 turns the worker pool off: verification runs on libuv's pool,
// as it does when worker threads cannot start. Same verdicts, same refusals.
process.env.PORTCULLIS_PASSWORD_THREADS = '0';

describe('verifyPassword() without the worker pool', () => {
  it('uses no pool and gives the same verdicts', async () => {
    expect(await passwordPool()).toBeNull();
    const stored = await hashPassword('libuv pw');
    expect(await verifyPassword(stored, 'libuv pw')).toBe(true);
    expect(await verifyPassword(stored, 'libuv px')).toBe(false);
    expect(await verifyAgainstDummy('libuv pw')).toBe(false);
  });

  it.each([
    ['garbage', 'not a hash'],
    ['absurd parameters', '$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
  ])('reads %s as a wrong password', async (_name, malformed) => {
    expect(await verifyPassword(malformed, 'anything')).toBe(false);
    const good = await hash('fine', { algorithm: 2, memoryCost: 256, timeCost: 1, parallelism: 1 });
    expect(await verifyPassword(good, 'fine')).toBe(true);
  });
});
