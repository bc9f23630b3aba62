import type { NextRequest } from 'next/server';
import { systemClock } from '../../../../lib/clock';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { exportUsersCsv } from '../../../../lib/admin/user-export';
import { isValidationError } from '../../../../lib/errors/brand';
import { log } from '../../../../lib/log';
import { directoryInput, parseUserListQuery, userListHref } from '../filters';

export const dynamic = 'force-dynamic';

/**
 * The users list as filtered, as a CSV download: the list's own query string (search,
 * requirement, status, invitation, sort), every page of it, streamed as it is read.
 */
export async function GET(request: NextRequest): Promise<Response> {
  const params = Object.fromEntries(request.nextUrl.searchParams.entries());
  const query = parseUserListQuery(params);
  const { db, actor } = await requirePermission('users.export', userListHref(query)); // R-D9
  const mapped = directoryInput({ ...query, cursor: null, trail: [] }, 1);
  if ('message' in mapped) return new Response(mapped.message, { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const { limit: _limit, cursor: _cursor, ...filters } = mapped.input;
  const lines = exportUsersCsv(db, filters, actor, systemClock);
  let first: IteratorResult<string>;
  try {
    // The first line waits for the filters' check and the audit entry: a refusal is a 400, not a broken download.
    first = await lines.next();
  } catch (err) {
    if (!isValidationError(err)) throw err;
    const message = Object.values(err.fieldErrors).flat().join(' ') || err.message;
    return new Response(message, { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (!first.done) controller.enqueue(encoder.encode(first.value));
    },
    // One page per pull: the next page is read only when the client has taken the last.
    async pull(controller) {
      try {
        const next = await lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        log.error({ err }, 'users CSV export failed part way');
        controller.error(err);
      }
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  const day = new Date(systemClock.now()).toISOString().slice(0, 10);
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="portcullis-users-${day}.csv"`,
      'cache-control': 'no-store',
    },
  });
}
