import type { ReactNode } from 'react';

/**
 * Small form pieces shared by the console's server and client components (no hooks, no
 * server imports). A field's messages sit right after it and are tied to it with
 * aria-describedby; the input says aria-invalid.
 */

export function errorId(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_-]/g, '-')}-error`;
}

/** Props that mark an input invalid and point it at its messages. */
export function invalidProps(name: string, errors: readonly string[]) {
  return errors.length > 0 ? { 'aria-invalid': true as const, 'aria-describedby': errorId(name) } : {};
}

export function FieldErrors({ name, errors }: { name: string; errors: readonly string[] }) {
  if (errors.length === 0) return null;
  return (
    <p className="field-error" id={errorId(name)}>
      {errors.join(' ')}
    </p>
  );
}

/**
 * The "enrollment period (days)" input of every form that starts a period (R-B1, R-F4). It
 * is a text field so that a bad value ("seven", 7.5) comes back as typed with its message.
 */
export function EnrollmentDaysField({
  id,
  label,
  defaultValue,
  errors,
  hint,
}: {
  id: string;
  label: string;
  defaultValue: string;
  errors: readonly string[];
  hint?: ReactNode;
}) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name="enrollmentDays"
        type="text"
        inputMode="numeric"
        autoComplete="off"
        defaultValue={defaultValue}
        {...invalidProps(id, errors)}
      />
      <FieldErrors name={id} errors={errors} />
      {hint ? <p className="hint">{hint}</p> : null}
    </>
  );
}

/** The form's outcome: a status notice on success, an alert on refusal. */
export function FormMessages({ ok, error }: { ok?: string | null; error?: string | null }) {
  return (
    <>
      {ok ? (
        <p className="notice" role="status">
          {ok}
        </p>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}

/** A disclosure that asks once more before a destructive button (works without JavaScript). */
export function Confirm({ summary, children }: { summary: string; children: ReactNode }) {
  return (
    <details className="confirm">
      <summary>{summary}</summary>
      {children}
    </details>
  );
}

/**
 * A destructive one-button form behind Confirm: the server action, the ids it needs as
 * hidden fields, and the button's label (its accessible name).
 */
export function ConfirmAction({
  summary,
  action,
  fields,
  label,
}: {
  summary: string;
  action: (formData: FormData) => void | Promise<void>;
  fields: Record<string, string>;
  label: string;
}) {
  return (
    <Confirm summary={summary}>
      <form action={action} className="inline">
        {Object.entries(fields).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <button type="submit" className="danger">
          {label}
        </button>
      </form>
    </Confirm>
  );
}
