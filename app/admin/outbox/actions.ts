'use server';

import { redirect } from 'next/navigation';
import { systemClock } from '../../../lib/clock';
import { requirePermission } from '../../../lib/admin/console-guard';
import { isConflictError, isNotFoundError } from '../../../lib/errors/brand';
import { resendMessage } from '../../../lib/mail/outbox';
import { text } from '../_lib/actions';

const statusPattern = /^[a-z]{1,20}$/;

/** "Resend" on a failed or undeliverable message: back in the queue, due now (audited). */
export async function resendAction(formData: FormData): Promise<void> {
  const { db, actor } = await requirePermission('outbox.resend', '/admin/outbox'); // R-D9
  const status = text(formData, 'status');
  const back = (extra: Record<string, string>) => {
    const params = new URLSearchParams(extra);
    if (statusPattern.test(status)) params.set('status', status);
    return `/admin/outbox?${params.toString()}`;
  };
  try {
    await resendMessage(db, text(formData, 'messageId'), actor, systemClock);
  } catch (err) {
    if (isNotFoundError(err)) redirect(back({ error: 'not_found' }));
    if (isConflictError(err)) redirect(back({ error: err.field === 'to' ? 'no_address' : 'not_resendable' }));
    throw err;
  }
  redirect(back({ done: 'resent' }));
}
