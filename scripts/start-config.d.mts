// Types for scripts/start-config.mjs (plain ESM shared by the entry server and lib/config/start-check.ts).
import type { CheckedConfig } from '../lib/config/schema';

export interface StartConfigSlot {
  config: CheckedConfig | undefined;
  promise: Promise<CheckedConfig>;
  resolve(config: CheckedConfig): void;
}

export declare function startConfigSlot(): StartConfigSlot;
export declare function checkedStartConfig(timeoutMs?: number): Promise<CheckedConfig>;
