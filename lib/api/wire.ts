/**
 * The JSON the API sends. Services speak in milliseconds; on the wire every time is an
 * RFC 3339 UTC string. The rule is by name, so it is the same everywhere: a number under a
 * key `at`, `asOf` or ending in `At` (createdAt, enrollmentEndsAt, ...) is a time.
 */

const timeKey = /^(at|asOf|.*At)$/;

export function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = typeof v === 'number' && timeKey.test(key) && Number.isFinite(v) ? new Date(v).toISOString() : toWire(v);
    }
    return out;
  }
  return value;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  if (status === 204) return new Response(null, { status, headers: { 'cache-control': 'no-store', ...headers } });
  return new Response(JSON.stringify(toWire(body)), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}
