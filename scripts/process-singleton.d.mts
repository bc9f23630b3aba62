// Types for scripts/process-singleton.mjs (the entry scripts' side of lib/process-singletons.ts).
export function processSingletonKey(name: string): symbol;
export function existingProcessSingleton<T = unknown>(name: string): T | undefined;
export function processSingleton<T>(name: string, create: () => T): T;
