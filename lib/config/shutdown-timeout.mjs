// PORTCULLIS_SHUTDOWN_TIMEOUT, read by the entry server (plain ESM: scripts/graceful-shutdown.mjs)
// and by TypeScript (the start-up check, `npm run worker`) alike, so there is one parser.

export const defaultShutdownTimeoutSeconds = 25;
export const maxShutdownTimeoutSeconds = 600;

/**
 * PORTCULLIS_SHUTDOWN_TIMEOUT in milliseconds: whole seconds, 1 to 600; unset or empty → 25 s
 * (under Kubernetes' default 30 s grace period).
 * @throws Error naming the variable, for anything else
 */
export function shutdownTimeoutMs(raw) {
  const text = (raw ?? '').trim();
  if (text === '') return defaultShutdownTimeoutSeconds * 1000;
  const seconds = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= maxShutdownTimeoutSeconds)) {
    throw new Error(`PORTCULLIS_SHUTDOWN_TIMEOUT "${text.slice(0, 20)}": must be whole seconds from 1 to ${maxShutdownTimeoutSeconds}`);
  }
  return seconds * 1000;
}
