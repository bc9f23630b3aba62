/**
 * /readyz and /metrics for the entry server. instrumentation.ts registers the handlers here
 * at start-up; scripts/ops-route.mjs (plain ESM, not bundled) serves them, and /healthz,
 * from node's own request, without Next.js's pipeline: a probe must answer while Next.js is
 * busy, and must not pass through the gate.
 *
 * NOTE: a process singleton (lib/process-singletons.ts, `ops-routes`): instrumentation.ts is
 * bundled apart from scripts/server.mjs, and they meet only in the process. The .mjs side
 * builds the same holder when it gets there first (markShuttingDown before registration).
 */
import { getDb } from '../../db';
import { existingProcessSingleton, processSingleton } from '../process-singletons';
import { metricsAnswer, type MetricsAnswer } from '../metrics/endpoint';
import { metrics } from '../metrics/registry';
import { observeRequest } from '../metrics/record';
import { installServerScrapeSources } from '../metrics/scrape-sources';
import { createReadinessCheck, type ReadinessCheckAnswer, type ReadinessDeps } from './probe';

export interface OpsRoutes {
  /** GET /readyz's answer; null until registered (the entry answers 503 "starting"). */
  readiness: (() => Promise<ReadinessCheckAnswer>) | null;
  /** GET /metrics's answer for this Authorization header; null until registered. */
  metrics: ((authorization: string | null) => Promise<MetricsAnswer>) | null;
  /** The entry server reports each request's route, status and duration here. */
  observeRequest: ((target: string, status: number, seconds: number) => void) | null;
  /** Set when the server starts draining: /readyz answers 503 "shutting_down" from then on. */
  shuttingDown: boolean;
}

function opsRoutes(): OpsRoutes {
  return processSingleton<OpsRoutes>('ops-routes', () => ({ readiness: null, metrics: null, observeRequest: null, shuttingDown: false }));
}

/**
 * Registers the handlers (instrumentation.ts, once at start-up): readiness on the server's
 * database and mail worker, the metrics registry with its scrape sources.
 * @param overrides tests swap the database or the mail worker
 */
export function registerOpsRoutes(overrides: Partial<Pick<ReadinessDeps, 'db' | 'mailWorker' | 'timeoutMs' | 'mailWorkerStaleMs' | 'log'>> = {}): void {
  const routes = opsRoutes();
  metrics(); // made now, so the first scrape has the default process metrics' history
  installServerScrapeSources();
  routes.readiness = createReadinessCheck({
    db: getDb,
    mailWorker: () => existingProcessSingleton<{ lastRoundAt(): number }>('mailWorker'),
    shuttingDown: () => routes.shuttingDown,
    ...overrides,
  });
  routes.metrics = (authorization) => metricsAnswer(authorization);
  routes.observeRequest = observeRequest;
}

/**
 * Readiness answers 503 "shutting_down" from now on (graceful shutdown: the load balancer
 * stops sending before the server stops accepting). scripts/ops-route.mjs has the same for
 * the entry server.
 */
export function markShuttingDown(): void {
  opsRoutes().shuttingDown = true;
}
