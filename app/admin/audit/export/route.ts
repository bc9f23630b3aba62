import { requirePermission } from '../../../../lib/admin/console-guard';
import { auditCsv, type AuditCsvFilter } from '../../../../lib/admin/audit-csv';
import { isValidationError } from '../../../../lib/errors/brand';
import { auditFilterNames, auditHref } from '../filters';

export const dynamic = 'force-dynamic';

/** The filtered audit log as a CSV download; the console's own guard, like every /admin page (R-D9). */
export async function GET(request: Request): Promise<Response> {
  const params = new URL(request.url).searchParams;
  const filter: AuditCsvFilter = {};
  for (const n of auditFilterNames) {
    const value = (params.get(n) ?? '').trim().slice(0, 300);
    if (value) filter[n] = value;
  }
  const { db } = await requirePermission('audit.view', auditHref(filter)); // R-D9
  const lines = auditCsv(db, filter);
  let first: IteratorResult<string>;
  try {
    // The first step validates the filter, so a bad one is a 400, not half a file.
    first = await lines.next();
  } catch (err) {
    if (!isValidationError(err)) throw err;
    const message = Object.values(err.fieldErrors).flat().join(' ') || err.message;
    return new Response(`${message}\n`, { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
  }
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // A byte-order mark, so spreadsheet programs read the names as UTF-8.
      controller.enqueue(encoder.encode('\uFEFF'));
      if (!first.done) controller.enqueue(encoder.encode(first.value));
    },
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  const day = new Date().toISOString().slice(0, 10);
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="portcullis-audit-${day}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
