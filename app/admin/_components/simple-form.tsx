'use client';

import { useActionState } from 'react';
import { useFormKey } from './use-form-key';
import { errorsOf, initialFormState, valueOf, type FormState } from '../_lib/form-state';
import { FieldErrors, FormMessages, invalidProps } from './fields';
import { CopyButton } from './copy-button';

export interface FieldSpec {
  name: string;
  label: string;
  kind?: 'text' | 'textarea' | 'select';
  options?: { value: string; label: string }[];
  defaultValue?: string;
  hint?: string;
  /** Element id, when two forms on one page share a field name. */
  id?: string;
}

/**
 * A console form of plain fields bound to a server action with useActionState: messages
 * after each field, the typed values kept when the action refuses them, and a value to
 * show once (a new API key) when the action hands one back. Works without JavaScript.
 */
export function SimpleForm({
  action,
  fields,
  submit,
  label,
  hidden = {},
  secretLabel,
  submitClass,
  copyLabel,
}: {
  action: (state: FormState, formData: FormData) => Promise<FormState>;
  fields: FieldSpec[];
  submit: string;
  label: string;
  hidden?: Record<string, string>;
  secretLabel?: string;
  submitClass?: string;
  /** The copy button's accessible name, e.g. "Copy the API key". */
  copyLabel?: string;
}) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  return (
    <form key={formKey} action={formAction} aria-label={label}>
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <FormMessages ok={state.ok} error={state.error} />
      {state.secret && (
        <div className="notice">
          <p>
            <strong>{secretLabel ?? 'Copy this now'}</strong>: it is shown only once.
          </p>
          <code className="secret" data-testid="shown-once">
            {state.secret}
          </code>
          <CopyButton value={state.secret} label={copyLabel ?? 'Copy'} />
        </div>
      )}
      {fields.map((f) => {
        const id = f.id ?? f.name;
        const errors = errorsOf(state, f.name);
        const common = { id, name: f.name, defaultValue: valueOf(state, f.name, f.defaultValue ?? ''), ...invalidProps(id, errors) };
        return (
          <div key={f.name}>
            <label htmlFor={id}>{f.label}</label>
            {f.kind === 'textarea' ? (
              <textarea rows={4} {...common} />
            ) : f.kind === 'select' ? (
              <select {...common}>
                {(f.options ?? []).map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input type="text" autoComplete="off" {...common} />
            )}
            <FieldErrors name={id} errors={errors} />
            {f.hint && <p className="hint">{f.hint}</p>}
          </div>
        );
      })}
      <button type="submit" disabled={pending} className={submitClass}>
        {submit}
      </button>
    </form>
  );
}
