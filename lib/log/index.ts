import type { Logger } from 'pino';
import { getLogger } from './logger.cjs';

export { createLogger, newRequestId, redactPaths, requestContext } from './logger.cjs';

/**
 * The logger. Lines written while scripts/server.mjs handles a request carry its `reqId`;
 * lines from start-up, migrations and the mail worker have none.
 */
export const log: Logger = getLogger();
