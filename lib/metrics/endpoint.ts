/**
 * GET /metrics: the registry in Prometheus's text format, for the holder of
 * PORTCULLIS_METRICS_TOKEN only (./bearer.ts); 404 when the variable is unset, as if there
 * were no such page. Served by the entry server (scripts/ops-route.mjs) through
 * lib/health/ops-routes.ts.
 */
import { metricsAccess, metricsTokenOf } from './bearer';
import { metricsText } from './registry';

export interface MetricsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const plain = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } as const;

/**
 * @param authorization the request's Authorization header
 * @param env @default process.env (PORTCULLIS_METRICS_TOKEN)
 */
export async function metricsAnswer(authorization: string | null | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Promise<MetricsAnswer> {
  const access = metricsAccess(authorization, metricsTokenOf(env));
  if (access === 'disabled') return { status: 404, headers: plain, body: 'Not found.' };
  if (access === 'unauthorized') {
    return { status: 401, headers: { ...plain, 'WWW-Authenticate': 'Bearer realm="portcullis-metrics"' }, body: 'Unauthorized.' };
  }
  const { contentType, body } = await metricsText();
  return { status: 200, headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' }, body };
}
