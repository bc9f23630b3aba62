import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { listAuditEntries } from '../../db/queries/audit';
import { decodeCursor, encodeCursor, maxCursorLength, invalidCursorMessage } from './cursor';
import { parseInput, ValidationError } from './errors';

/** The audit log, newest first, filtered by actor, action, target and time; keyset by id. */

export const defaultAuditPageSize = 50;
export const maxAuditPageSize = 200;

const filterText = (what: string, max = 200) =>
  z.string(`${what} must be text.`).trim().min(1, `${what} cannot be empty.`).max(max, `${what} is at most ${max} characters.`);

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const oneDayMs = 86_400_000;

/**
 * A day or a moment, as epoch ms: a bare date is a UTC day, taken from its first or to its
 * last millisecond (`edge`), so "from 2 Nov to 2 Nov" is that whole day.
 */
function auditTime(what: string, edge: 'start' | 'end') {
  const message = `${what} must be a date such as 2026-11-02, or a time such as 2026-11-02T09:00:00Z.`;
  return z
    .string(message)
    .trim()
    .max(40, message)
    .transform((value, ctx) => {
      const day = dayPattern.exec(value);
      const ms = day
        ? Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]))
        : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
          ? Date.parse(value)
          : NaN;
      // A day that rolled over (2026-02-31) is refused rather than moved to March.
      if (!Number.isFinite(ms) || (day && new Date(ms).toISOString().slice(0, 10) !== value)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return day && edge === 'end' ? ms + oneDayMs - 1 : ms;
    })
    .meta({ type: 'string', description: `${what}: a UTC day (YYYY-MM-DD, inclusive) or an RFC 3339 time.` });
}

export const listAuditSchema = z.strictObject(
  {
    /** The actor's label: a username, "cli", "system" or "api-key:<name>". */
    actor: filterText('Actor').optional(),
    actorId: filterText('Actor id').optional(),
    action: filterText('Action', 100)
      .regex(/^[a-z0-9_.]+$/, 'Action is lowercase letters, digits, "_" and ".", such as mfa.required.')
      .optional(),
    targetType: filterText('Target type', 50).optional(),
    targetId: filterText('Target id').optional(),
    /** A UTC day (2026-11-02, from its start) or an RFC 3339 time; inclusive. */
    from: auditTime('From', 'start').optional(),
    /** A UTC day (2026-11-02, to its end) or an RFC 3339 time; inclusive. */
    to: auditTime('To', 'end').optional(),
    limit: z
      .number('Limit must be a whole number.')
      .int('Limit must be a whole number.')
      .min(1, `Limit must be from 1 to ${maxAuditPageSize}.`)
      .max(maxAuditPageSize, `Limit must be from 1 to ${maxAuditPageSize}.`)
      .default(defaultAuditPageSize),
    cursor: z.string('Cursor must be text.').max(maxCursorLength, invalidCursorMessage).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown filter: ${issue.keys.join(', ')}.` : 'Expected list options.') },
);

export type ListAuditInput = z.input<typeof listAuditSchema>;

const auditCursorSchema = z.strictObject({ v: z.literal(1), id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export interface AuditEntryView {
  id: number;
  at: number;
  actor: { id: string | null; label: string };
  action: string;
  target: { type: string | null; id: string | null };
  details: unknown;
  clientIp: string | null;
}

function parseDetails(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * @throws ValidationError for an unknown filter, a bad value or a cursor that is not ours.
 * @example await listAudit(db, { actor: 'api-key:deploy', action: 'mfa.required' })
 */
export async function listAudit(
  db: Kysely<Database>,
  input: ListAuditInput,
): Promise<{ entries: AuditEntryView[]; nextCursor: string | null }> {
  const { cursor, limit, actor, from, to, ...filter } = parseInput(listAuditSchema, input ?? {});
  if (from !== undefined && to !== undefined && from > to) {
    throw new ValidationError({ to: ['To must not be before From.'] });
  }
  const beforeId = cursor === undefined ? undefined : decodeCursor(cursor, auditCursorSchema).id;
  const rows = await listAuditEntries(db, {
    ...filter,
    ...(from !== undefined ? { atFrom: from } : {}),
    ...(to !== undefined ? { atBefore: to + 1 } : {}),
    ...(actor !== undefined ? { actorLabel: actor } : {}),
    ...(beforeId !== undefined ? { beforeId } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit).map(
    (r): AuditEntryView => ({
      id: Number(r.id),
      at: Number(r.at),
      actor: { id: r.actor_id, label: r.actor_label },
      action: r.action,
      target: { type: r.target_type, id: r.target_id },
      details: parseDetails(r.details),
      clientIp: r.client_ip,
    }),
  );
  const last = page[page.length - 1];
  return { entries: page, nextCursor: rows.length > limit && last ? encodeCursor({ v: 1, id: last.id }) : null };
}
