import { notFound } from 'next/navigation';
import { formatDateTime } from '../../../../lib/format';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { isNotFoundError } from '../../../../lib/errors/brand';
import { getOutboxMessage, keptWithoutSmtp, type OutboxMessage } from '../../../../lib/mail/outbox';
import { AdminShell } from '../../_components/shell';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Email message' };

type Params = Promise<{ id: string }>;

function statusText(m: OutboxMessage): string {
  if (keptWithoutSmtp(m)) return 'Not sent: no SMTP server configured. The message is kept here only.';
  if (m.status === 'sent') return m.sentAt ? `Sent ${formatDateTime(m.sentAt)}.` : 'Sent.';
  return m.lastError ? `${m.status}: ${m.lastError}` : m.status;
}

/** One outbox message as stored: its text with any secret link withheld (lib/mail/worker.ts). */
export default async function OutboxMessagePage({ params }: { params: Params }) {
  const { id } = await params;
  const { session, db } = await requirePermission('outbox.view', `/admin/outbox/${encodeURIComponent(id)}`); // R-D9
  let message: OutboxMessage;
  try {
    message = await getOutboxMessage(db, id);
  } catch (err) {
    if (isNotFoundError(err)) notFound();
    throw err;
  }
  return (
    <AdminShell title={message.subject} session={session} current="/admin/outbox">
      <p>
        <a href="/admin/outbox">Back to the outbox</a>
      </p>
      <dl>
        <dt>To</dt>
        <dd>{message.to ?? '—'}</dd>
        <dt>Queued</dt>
        <dd>{formatDateTime(message.createdAt)}</dd>
        <dt>Status</dt>
        <dd data-testid="mail-status">{statusText(message)}</dd>
        <dt>Kind</dt>
        <dd>{message.kind}</dd>
      </dl>
      <h2>Text</h2>
      {message.text === null ? (
        <p className="hint">Not written yet: the text is stored when the mail worker takes the message.</p>
      ) : (
        <>
          <pre className="mail-text" data-testid="mail-text">
            {message.text}
          </pre>
          <p className="hint">Links that carry a secret (invitations, password resets) are withheld from the stored copy.</p>
        </>
      )}
    </AdminShell>
  );
}
