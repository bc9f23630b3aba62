/**
 * Recognising our own errors without `instanceof`. A bundler may load a module twice (the
 * production build splits lib/ over several chunks), and an error made by one copy of a
 * class fails `instanceof` against the other copy: a 404 or 409 would become a 500.
 * Each error class stamps itself in its constructor with a `Symbol.for` brand (one
 * registry for every chunk), and call sites ask these guards instead.
 */
import type { ConflictError, NotFoundError, ValidationError } from '../admin/errors';
import type { HttpProblem } from '../api/problem';
import type { PermanentDeliveryError } from '../mail/transport';
import type { SecretBoxError } from '../crypto/secret-box';

export const errorBrand = Symbol.for('portcullis.error');

export type ErrorBrand = 'ValidationError' | 'NotFoundError' | 'ConflictError' | 'HttpProblem' | 'PermanentDeliveryError' | 'SecretBoxError';

/** Stamps `err` with its brand (and its name, so logs say which error it is). Call it from the constructor. */
export function brandError(err: Error, brand: ErrorBrand): void {
  Object.defineProperty(err, errorBrand, { value: brand, enumerable: false });
  Object.defineProperty(err, 'name', { value: brand, enumerable: false, configurable: true, writable: true });
}

/** Whether `err` carries `brand`, whichever copy of its class made it. */
export function hasErrorBrand(err: unknown, brand: ErrorBrand): boolean {
  return typeof err === 'object' && err !== null && (err as { [errorBrand]?: unknown })[errorBrand] === brand;
}

export const isValidationError = (err: unknown): err is ValidationError => hasErrorBrand(err, 'ValidationError');
export const isNotFoundError = (err: unknown): err is NotFoundError => hasErrorBrand(err, 'NotFoundError');
export const isConflictError = (err: unknown): err is ConflictError => hasErrorBrand(err, 'ConflictError');
export const isHttpProblem = (err: unknown): err is HttpProblem => hasErrorBrand(err, 'HttpProblem');
export const isPermanentDeliveryError = (err: unknown): err is PermanentDeliveryError => hasErrorBrand(err, 'PermanentDeliveryError');
export const isSecretBoxError = (err: unknown): err is SecretBoxError => hasErrorBrand(err, 'SecretBoxError');

/**
 * duo_universal's DuoException, by the name its constructor sets ('DuoException'): the
 * library is bundled like the rest, so its class is no more one object than ours.
 */
export function isDuoException(err: unknown): err is Error & { inner?: unknown } {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'DuoException' && typeof (err as { message?: unknown }).message === 'string';
}
