export declare const defaultShutdownTimeoutSeconds: number;
export declare const maxShutdownTimeoutSeconds: number;
export declare function shutdownTimeoutMs(raw: string | undefined): number;
