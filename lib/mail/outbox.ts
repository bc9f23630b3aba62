import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { MailKind, MailStatus } from '../../db/schema';
import { writeAudit } from '../../db/queries/audit';
import { getOutboxRow, listOutboxRows, requeueOutboxRow, type OutboxRow } from '../../db/queries/mail';
import { getUserById } from '../../db/queries/users';
import type { Actor } from '../admin/actor';
import { ConflictError, fromZod, NotFoundError } from '../admin/errors';
import { decodeCursor, encodeCursor, invalidCursorMessage } from '../admin/cursor';
import type { Clock } from '../clock';

/** The outbox as admins see it (console and GET /api/v1/outbox), and the resend action. */

export const mailStatuses = ['pending', 'sending', 'sent', 'failed', 'dead', 'skipped'] as const satisfies readonly MailStatus[];
/** Statuses an admin may resend from. */
export const resendableStatuses = ['failed', 'dead'] as const satisfies readonly MailStatus[];

export const defaultOutboxLimit = 50;
export const maxOutboxLimit = 200;

export interface OutboxMessage {
  id: string;
  userId: string | null;
  kind: MailKind;
  to: string | null;
  subject: string;
  status: MailStatus;
  attempts: number;
  /** Pending: when the next attempt is due. */
  nextAttemptAt: number | null;
  /** The last delivery error, or why the message was skipped. */
  lastError: string | null;
  /** smtp, or outbox when no SMTP server is configured (the embedded default). */
  deliveredVia: 'smtp' | 'outbox' | null;
  createdAt: number;
  sentAt: number | null;
  /** The plain-text body as delivered; null until the worker has rendered it. */
  text: string | null;
  messageId: string | null;
  /** Whether resendMessage() accepts it. */
  resendable: boolean;
}

export interface OutboxPage {
  messages: OutboxMessage[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

function toMessage(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    to: row.to_address,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastError: row.last_error,
    deliveredVia: row.delivered_via,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    text: row.text_body,
    messageId: row.message_id,
    resendable: (resendableStatuses as readonly string[]).includes(row.status),
  };
}

// Where the previous page ended: [created_at, id] of its last row (lib/admin/cursor.ts).
const cursorSchema = z.tuple([z.number().int().nonnegative(), z.string().min(1).max(64)]);
const pageCursor = (row: OutboxRow) => encodeCursor([row.created_at, row.id]);

const limitMessage = `limit must be a whole number from 1 to ${maxOutboxLimit}.`;

const listSchema = z.object(
  {
    status: z.enum(mailStatuses, `status must be one of ${mailStatuses.join(', ')}.`).optional(),
    // A query string gives "50"; digits only, so "5e1" or " 50" are refused rather than coerced.
    limit: z
      .union([z.number(), z.string().regex(/^\d{1,4}$/, limitMessage).transform(Number)], limitMessage)
      .pipe(z.number().int(limitMessage).min(1, limitMessage).max(maxOutboxLimit, limitMessage))
      .default(defaultOutboxLimit),
    cursor: z.string(invalidCursorMessage).optional(),
  },
  'Expected an object.',
);

export interface OutboxQuery {
  status?: MailStatus | string;
  /** 1–200, default 50; a digit string (from a query string) is accepted. */
  limit?: number | string;
  cursor?: string;
}

/**
 * The outbox, newest first, keyset-paginated on (created_at, id).
 *
 * @throws ValidationError for an unknown status, a bad limit or a cursor that no page gave.
 * @example const { messages, nextCursor } = await listOutbox(db, { status: 'failed', limit: 50 })
 */
export async function listOutbox(db: Kysely<Database>, query: OutboxQuery = {}): Promise<OutboxPage> {
  const parsed = listSchema.safeParse(query);
  if (!parsed.success) throw fromZod(parsed.error);
  const { status, limit, cursor } = parsed.data;
  const before = cursor === undefined ? undefined : decodeCursor(cursor, cursorSchema);
  const rows = await listOutboxRows(db, {
    status,
    limit: limit + 1,
    before: before && { createdAt: before[0], id: before[1] },
  });
  const page = rows.slice(0, limit);
  return { messages: page.map(toMessage), nextCursor: rows.length > limit ? pageCursor(page[page.length - 1]!) : null };
}

/**
 * One message with its stored text, for the admin who opens it. The stored bodies already
 * have their secret links withheld (lib/mail/worker.ts), so nothing here can act as one.
 *
 * @throws NotFoundError('message') for an unknown or malformed id.
 */
export async function getOutboxMessage(db: Kysely<Database>, id: string): Promise<OutboxMessage> {
  const row = typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await getOutboxRow(db, id) : undefined;
  if (!row) throw new NotFoundError('message', [String(id).slice(0, 64)]);
  return toMessage(row);
}

/** Whether the message was kept in the outbox because no SMTP server is configured. */
export function keptWithoutSmtp(message: Pick<OutboxMessage, 'status' | 'deliveredVia'>): boolean {
  return message.status === 'sent' && message.deliveredVia === 'outbox';
}

/**
 * An admin's "Resend" on a failed (attempts used up) or dead (address refused) message:
 * back to pending, due now, attempts from zero, to the user's current address (the admin
 * may have corrected it). Audited as mail.resent in the same transaction. The message keeps
 * its Message-ID, so a receiver that did get an earlier attempt can drop the copy.
 *
 * @throws NotFoundError('message'); ConflictError when it is not failed or dead, or there is no address.
 */
export async function resendMessage(db: Kysely<Database>, id: string, actor: Actor, clock: Clock): Promise<OutboxMessage> {
  return db.transaction().execute(async (trx) => {
    const row = typeof id === 'string' && id.length > 0 && id.length <= 64 ? await getOutboxRow(trx, id) : undefined;
    if (!row) throw new NotFoundError('message', [String(id)]);
    if (!(resendableStatuses as readonly string[]).includes(row.status)) {
      throw new ConflictError(`Only failed or undeliverable messages can be resent; this one is ${row.status}.`, 'status');
    }
    const user = row.user_id ? await getUserById(trx, row.user_id) : undefined;
    const to = user ? user.email : row.to_address;
    if (!to) throw new ConflictError('The user has no email address: add one first.', 'to');
    const now = clock.now();
    if (!(await requeueOutboxRow(trx, { id, now, to }))) {
      throw new ConflictError('The message changed meanwhile; reload and try again.', 'status');
    }
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'mail.resent',
      targetType: 'mail',
      targetId: id,
      details: {
        kind: row.kind,
        userId: row.user_id,
        previousStatus: row.status,
        previousAttempts: row.attempts,
        previousError: row.last_error,
        to,
        ...(to !== row.to_address ? { previousTo: row.to_address } : {}),
      },
      clientIp: actor.clientIp,
    });
    return toMessage((await getOutboxRow(trx, id))!);
  });
}
