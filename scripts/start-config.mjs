// The configuration instrumentation.ts register() checks at start (lib/config/start-check.ts),
// for the entry server to listen and decide by. Next.js starts register() while app.prepare()
// runs but in production awaits it only at the first request, so the entry waits here for
// the check's result before it listens. The slot lives under processSingletonKey('start-config')
// (lib/process-singletons.ts), which this plain ESM can't import (test/unit/process-singletons.test.ts
// checks both sides name the same symbol); whichever side comes first makes it.
import fs from 'node:fs';

const key = Symbol.for('portcullis.start-config');

/** `{ config, promise, resolve }`: config is undefined until the check passed. */
export function startConfigSlot() {
  if (!globalThis[key]) {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    globalThis[key] = { config: undefined, promise, resolve };
  }
  return globalThis[key];
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
