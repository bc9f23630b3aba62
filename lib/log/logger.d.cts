import type { AsyncLocalStorage } from 'node:async_hooks';
import type { DestinationStream, Logger, LevelWithSilent } from 'pino';

export interface RequestContext {
  reqId: string;
}

export declare const requestContext: AsyncLocalStorage<RequestContext>;
export declare const redactPaths: readonly string[];
export declare function newRequestId(): string;
export declare function createLogger(options?: { destination?: DestinationStream; json?: boolean; level?: LevelWithSilent }): Logger;
export declare function getLogger(): Logger;
