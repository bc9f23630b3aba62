import { createRequire } from 'node:module';
import { DuoException } from '@duosecurity/duo_universal';
import { describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '@/lib/admin/errors';
import { HttpProblem, responseForError } from '@/lib/api/problem';
import { PermanentDeliveryError } from '@/lib/mail/transport';
import { SecretBoxError } from '@/lib/crypto/secret-box';
import { duoErrorDetail } from '@/lib/factors/duo';
import {
  isConflictError,
  isDuoException,
  isHttpProblem,
  isNotFoundError,
  isPermanentDeliveryError,
  isSecretBoxError,
  isValidationError,
} from '@/lib/errors/brand';

/**
 * A bundle may hold two copies of a module, and an error made by one copy of a
 * class fails `instanceof` against the other. Here the second copy is made the same way:
 * vi.resetModules() and a fresh import evaluates the error modules again, so their classes
 * are new objects. An admin service in one chunk throws, an API route in another catches.
 */
async function secondCopies() {
  vi.resetModules();
  const admin = await import('@/lib/admin/errors');
  const api = await import('@/lib/api/problem');
  const transport = await import('@/lib/mail/transport');
  const box = await import('@/lib/crypto/secret-box');
  return { ...admin, ...api, ...transport, ...box };
}

describe('errors from a second copy of their module', () => {
  it('are really from another copy: instanceof of the first copy says no', async () => {
    const other = await secondCopies();
    expect(other.NotFoundError).not.toBe(NotFoundError);
    expect(new other.NotFoundError('user', ['u1']) instanceof NotFoundError).toBe(false);
  });

  it('are still recognised by their brand', async () => {
    const other = await secondCopies();
    expect(isValidationError(new other.ValidationError({ name: ['Required.'] }))).toBe(true);
    expect(isNotFoundError(new other.NotFoundError('group', ['g1']))).toBe(true);
    expect(isConflictError(new other.ConflictError('Taken.', 'name'))).toBe(true);
    expect(isHttpProblem(new other.HttpProblem(413, 'payload-too-large'))).toBe(true);
    expect(isPermanentDeliveryError(new other.PermanentDeliveryError('550 no such user'))).toBe(true);
    expect(isSecretBoxError(new other.SecretBoxError('Not a sealed secret.'))).toBe(true);
  });

  it('become the right problem+json, not a 500', async () => {
    const other = await secondCopies();
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(responseForError(new other.ValidationError({ name: ['Required.'] })).status).toBe(400);
      const notFound = responseForError(new other.NotFoundError('group', ['g1']));
      expect(notFound.status).toBe(404);
      expect(await notFound.json()).toMatchObject({ resource: 'group', unknownIds: ['g1'] });
      expect(responseForError(new other.ConflictError('Taken.', 'name')).status).toBe(409);
      expect(responseForError(new other.HttpProblem(413, 'payload-too-large')).status).toBe(413);
      expect(quiet).not.toHaveBeenCalled();
    } finally {
      quiet.mockRestore();
    }
  });
});

describe('brand guards', () => {
  it('tell our errors apart, and say no to plain errors and look-alikes', () => {
    const ours = [new ValidationError({}), new NotFoundError('user'), new ConflictError('x'), new HttpProblem(400, 'validation'), new PermanentDeliveryError('x'), new SecretBoxError('x')];
    const guards = [isValidationError, isNotFoundError, isConflictError, isHttpProblem, isPermanentDeliveryError, isSecretBoxError];
    guards.forEach((guard, g) => ours.forEach((err, e) => expect(guard(err), `${guard.name}(${err.name})`).toBe(g === e)));
    const lookAlike = Object.assign(new Error('x'), { name: 'NotFoundError', what: 'user', ids: [] });
    for (const guard of guards) {
      expect(guard(new Error('x'))).toBe(false);
      expect(guard(lookAlike)).toBe(false);
      expect(guard(null)).toBe(false);
      expect(guard('NotFoundError')).toBe(false);
    }
  });

  it('name the error in logs', () => {
    expect(String(new NotFoundError('user', ['u1']))).toBe('NotFoundError: user not found: u1');
  });

  it('recognise Duo’s exception by its name, from either build of the library', () => {
    const cjs = createRequire(import.meta.url)('@duosecurity/duo_universal') as { DuoException: typeof DuoException };
    const fromCjs = new cjs.DuoException('The username is invalid');
    expect(isDuoException(new DuoException('x'))).toBe(true);
    expect(isDuoException(fromCjs)).toBe(true);
    expect(isDuoException(new Error('x'))).toBe(false);
    expect(duoErrorDetail(new cjs.DuoException('Error decoding JWT'))).toBe('bad_token');
    expect(duoErrorDetail(new cjs.DuoException('x', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })))).toBe('econnrefused');
  });
});
