import { existingProcessSingleton } from '../process-singletons';

/**
 * Whether this process is shutting down: the entry server (scripts/graceful-shutdown.mjs)
 * marks it at the first SIGTERM, before it stops accepting connections. Readiness answers
 * 503 from then on, so a load balancer holding a keep-alive connection stops sending.
 */
export function shuttingDown(): boolean {
  return existingProcessSingleton<{ since?: number }>('shutdown')?.since !== undefined;
}
