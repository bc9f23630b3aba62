// The configuration instrumentation.ts register() checked during app.prepare()
// (lib/config/start-check.ts), for the entry server to listen and decide by. The key is
// processSingletonKey('start-config') in lib/process-singletons.ts, which this plain ESM
// can't import (test/unit/process-singletons.test.ts checks both sides name the same symbol).
import fs from 'node:fs';

const key = Symbol.for('portcullis.start-config');

/** The checked configuration; ends the process if nothing checked it (a build without instrumentation.ts). */
export function checkedStartConfig() {
  const config = globalThis[key];
  if (config) return config;
  fs.writeSync(2, 'Portcullis cannot start: the configuration was not checked (the build has no instrumentation.ts): run `npx next build` again\n');
  process.exit(1);
}
