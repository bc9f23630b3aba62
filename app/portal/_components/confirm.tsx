import type { ReactNode } from 'react';
import styles from './confirm.module.css';

/**
 * A destructive action behind a confirm step, the portal's form of the console's
 * ConfirmAction (app/admin/_components/fields.tsx): the first button only opens a section
 * that says what will happen, with the action itself and Cancel. A <details>, so it works
 * without JavaScript; `open` renders it opened (back from "confirm it's you").
 */
export function ConfirmAction({
  summary,
  summaryLabel,
  action,
  fields,
  label,
  cancelHref,
  open = false,
  children,
}: {
  /** The visible text of the first button, e.g. "Remove…". */
  summary: string;
  /** Its accessible name when the visible text is not unique on the page, e.g. "Remove Rita’s phone…". */
  summaryLabel?: string;
  action: (formData: FormData) => void | Promise<void>;
  fields: Record<string, string>;
  /** The action button's text (its accessible name). */
  label: string;
  cancelHref: string;
  open?: boolean;
  /** What will happen. */
  children: ReactNode;
}) {
  return (
    <details className={styles.confirm} open={open}>
      <summary aria-label={summaryLabel}>{summary}</summary>
      <div className={styles.body} role="group" aria-label={`Confirm: ${label}`}>
        <p className={styles.what}>{children}</p>
        <div className={styles.buttons}>
          <form action={action}>
            {Object.entries(fields).map(([name, value]) => (
              <input key={name} type="hidden" name={name} value={value} />
            ))}
            <button type="submit" className={styles.danger}>
              {label}
            </button>
          </form>
          <a href={cancelHref} className={styles.cancel}>
            Cancel
          </a>
        </div>
      </div>
    </details>
  );
}
