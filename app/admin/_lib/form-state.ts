/**
 * What a console server action answers to its form (useActionState): a message, per-field
 * errors, and the values as typed, so a refused form comes back as the admin left it.
 * Types only: client components import this file too.
 */
export interface FormState {
  /** A change went through: said in a role=status notice. */
  ok?: string | null;
  /** A refusal that belongs to no one field: said in a role=alert notice. */
  error?: string | null;
  /** Messages per form field name. */
  fieldErrors?: Record<string, string[]>;
  /** The submitted values by field name (never secrets). */
  values?: Record<string, string | string[]>;
  /** Something to show once, such as a new API key. */
  secret?: string | null;
}

export const initialFormState: FormState = {};

/** The typed value of a field, or `fallback` before the first submission. */
export function valueOf(state: FormState, name: string, fallback = ''): string {
  const value = state.values?.[name];
  if (value === undefined) return fallback;
  return Array.isArray(value) ? (value[0] ?? '') : value;
}

/** The typed values of a multi-valued field (checkboxes), or `fallback` before the first submission. */
export function valuesOf(state: FormState, name: string, fallback: readonly string[] = []): string[] {
  const value = state.values?.[name];
  if (value === undefined) return [...fallback];
  return Array.isArray(value) ? value : [value];
}

export function errorsOf(state: FormState, name: string): string[] {
  return state.fieldErrors?.[name] ?? [];
}
