import type { Logger } from 'pino';
import { getLogger } from './logger.cjs';

export { createLogger, currentRequestId, loggerFor, runWithRequestId, newRequestId, redactPaths, requestIdFrom, requestIdHeader } from './logger.cjs';

/**
 * The logger. Lines written while Next.js runs a page, server action or route handler for
 * a request carry its `reqId` (the response's X-Request-Id); lines from start-up,
 * migrations and the mail worker have none (see runWithRequestId in logger.cjs).
 */
export const log: Logger = getLogger();
