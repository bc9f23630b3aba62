import { z } from 'zod';
import { ValidationError } from './errors';

/**
 * Opaque page cursors: base64url of a small JSON value that names where the previous page
 * ended. Opaque to clients, but not secret or signed: a client that forges one only moves
 * its own position in a list it may read anyway. Every decoded value is validated, so a
 * garbled or hand-made cursor is a ValidationError (400), never a crash.
 */

export const maxCursorLength = 512;
const base64url = /^[A-Za-z0-9_-]+$/;

export const invalidCursorMessage = 'The cursor is not valid for this list; start again without one.';

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * @throws ValidationError({cursor}) for anything that is not a cursor `schema` accepts.
 * @example decodeCursor(encodeCursor({ v: 1, id: 7 }), z.object({ v: z.literal(1), id: z.number() }))
 */
export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  const invalid = () => new ValidationError({ cursor: [invalidCursorMessage] }, invalidCursorMessage);
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > maxCursorLength || !base64url.test(cursor)) {
    throw invalid();
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid();
  return parsed.data;
}
