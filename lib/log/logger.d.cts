import type { DestinationStream, Logger, LevelWithSilent } from 'pino';

interface HeaderReader {
  get(name: string): string | null;
}

export declare const logLevels: readonly LevelWithSilent[];
export declare const redactPaths: readonly string[];
export declare const requestIdHeader: string;
export declare function newRequestId(): string;
export declare function requestIdFrom(headers: HeaderReader | null | undefined): string | undefined;
export declare function createLogger(options?: { destination?: DestinationStream; json?: boolean; level?: LevelWithSilent }): Logger;
export declare function getLogger(): Logger;
export declare function loggerFor(headers: HeaderReader | null | undefined, logger?: Logger): Logger;
export declare function runWithRequestId<T>(reqId: string, fn: () => T): T;
export declare function currentRequestId(): string | undefined;
