// The configuration instrumentation.ts register() checks at start (lib/config/start-check.ts),
// for the entry server to listen and decide by. Next.js starts register() while app.prepare()
// runs but in production awaits it only at the first request, so the entry waits here for
// the check's result before it listens. The slot is the process singleton 'start-config';
// whichever side comes first makes it.
import fs from 'node:fs';
import { processSingleton } from './process-singleton.mjs';

/** `{ config, promise, resolve }`: config is undefined until the check passed. */
export function startConfigSlot() {
  return processSingleton('start-config', () => {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    return { config: undefined, promise, resolve };
  });
}

/**
 * The checked configuration, once register() has checked it (a bad value ends the process
 * there, with its own line). Ends the process if no check comes: a build without
 * instrumentation.ts, or a register() that failed before it.
 */
export async function checkedStartConfig(timeoutMs = 120_000) {
  let timer;
  const config = await Promise.race([startConfigSlot().promise, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  if (config) return config;
  fs.writeSync(2, 'Portcullis cannot start: the configuration was not checked (instrumentation.ts register() did not run; rebuild with `npx next build`)\n');
  process.exit(1);
}
