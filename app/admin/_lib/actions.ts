import { ConflictError, NotFoundError, ValidationError } from '../../../lib/admin/errors';
import { isConflictError, isNotFoundError, isValidationError } from '../../../lib/errors/brand';
import type { FormState } from './form-state';

/** Server-side helpers for the console's server actions (not an action module itself). */

/** The field's one value as text ('' when absent; a repeated field gives its first value). */
export function text(formData: FormData, name: string): string {
  const value = formData.get(name);
  return typeof value === 'string' ? value : '';
}

/** Every value of a multi-valued field (checkboxes), as text. */
export function texts(formData: FormData, name: string): string[] {
  return formData.getAll(name).filter((v): v is string => typeof v === 'string');
}

/** Lines of a textarea: trimmed, blank lines dropped. */
export function lines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * Days as typed into a form, for the services' enrollmentDaysSchema, which takes numbers
 * only: plain digits (with an optional minus) become a number; anything else ("7.5",
 * "seven", "") stays text, so the service refuses it with its own message and never sees a
 * coerced value.
 */
export function daysInput(value: string): number | string {
  const trimmed = value.trim();
  return /^-?\d{1,9}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/**
 * A service's refusal as form state: ValidationError → per-field messages (keys renamed by
 * `fieldNames`, e.g. `{ enrollmentDays: 'days' }`), ConflictError → a field message or an
 * alert, NotFoundError → an alert. Anything else (redirects, forbidden(), real failures)
 * is thrown on.
 */
export function refusal(err: unknown, values: FormState['values'], fieldNames: Record<string, string> = {}): FormState {
  const rename = (key: string) => {
    if (fieldNames[key] !== undefined) return fieldNames[key]!;
    // "conditions.ipIn.0" → the field of "conditions.ipIn", when one is named.
    const parts = key.split('.');
    for (let n = parts.length - 1; n > 0; n--) {
      const prefix = parts.slice(0, n).join('.');
      if (fieldNames[prefix] !== undefined) return fieldNames[prefix]!;
    }
    return key;
  };
  if (isValidationError(err)) {
    const fieldErrors: Record<string, string[]> = {};
    for (const [key, messages] of Object.entries(err.fieldErrors)) (fieldErrors[rename(key)] ??= []).push(...messages);
    const general = fieldErrors._ ?? [];
    delete fieldErrors._;
    // A service that names the problem in its message (R-A2's "WebAuthn alone") is quoted.
    const named = err.message !== new ValidationError({}).message ? err.message : null;
    return {
      error: general.length > 0 ? general.join(' ') : (named ?? 'Not saved: see the messages next to the fields.'),
      fieldErrors,
      values,
    };
  }
  if (isConflictError(err)) {
    return err.field
      ? { fieldErrors: { [rename(err.field)]: [err.message] }, error: 'Not saved: see the message next to the field.', values }
      : { error: err.message, values };
  }
  if (isNotFoundError(err)) {
    return { error: notFoundMessage(err), values };
  }
  throw err;
}

function notFoundMessage(err: NotFoundError): string {
  const list = err.ids.slice(0, 5).join(', ') + (err.ids.length > 5 ? ', …' : '');
  switch (err.what) {
    case 'user':
      return err.ids.length > 1 ? `These users no longer exist: ${list}. Nothing was changed.` : 'That user no longer exists. Nothing was changed.';
    default:
      return `That ${err.what} no longer exists. Reload the page. Nothing was changed.`;
  }
}
