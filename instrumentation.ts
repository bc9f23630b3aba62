/**
 * Runs once when the server starts: check the configuration, migrate the database and, when
 * nobody can administer this install yet, say how to create the first admin.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  // First, before anything reads a variable (the logger reads LOG_LEVEL): a bad one ends the
  // process here, inside app.prepare(), before scripts/server.mjs listens (one line, exit 78).
  const { checkConfigAtStart } = await import('./lib/config/start-check');
  const config = checkConfigAtStart();
  const { getDb } = await import('./db');
  const { log } = await import('./lib/log');
  const { countAdmins } = await import('./db/queries/users');
  try {
    const db = await getDb();
    if ((await countAdmins(db.kysely)) === 0) {
      log.info(
        'No admin exists yet. Create one with:\n' +
          '  npm run cli -- create-admin --username <name> --password <password>',
      );
    }
  } catch (err) {
    // NOTE: the server still starts; the gate answers 503 until the database is reachable.
    log.error({ err }, 'database not ready at start-up');
  }
  // The sign-in post, served by scripts/server.mjs without Next.js's pipeline (same handler).
  const { registerDirectRoute } = await import('./lib/http/direct-routes');
  const { POST: signInPost } = await import('./app/login/submit/route');
  registerDirectRoute('POST', '/login/submit', signInPost);
  // The forward-auth endpoints (lib/gate/forward-auth.ts), any method, served by
  // scripts/server.mjs from node's request without web Request/Response (the same decision
  // their route.ts files give under `next start`).
  const { registerForwardAuthRoutes } = await import('./lib/gate/forward-auth');
  registerForwardAuthRoutes();
  // The portal's own paths, decided by scripts/server.mjs ahead of Next.js with the same
  // decision as middleware.ts (lib/gate/entry-gate.ts). PORTCULLIS_ENTRY_GATE=off leaves
  // them to the middleware, as under `next start` (bench/gate.ts compares the two).
  if (config.entryGate) {
    const { createEntryGate, registerEntryGate } = await import('./lib/gate/entry-gate');
    const { portalResources } = await import('./portcullis.config');
    registerEntryGate(createEntryGate({ resources: portalResources }));
  }
  // /readyz and /metrics, served by scripts/server.mjs ahead of the gate (lib/health/ops-routes.ts).
  const { registerOpsRoutes } = await import('./lib/health/ops-routes');
  registerOpsRoutes();
  // The mail worker (lib/mail/worker.ts); it waits for the database on its own.
  if (!config.disableWorker) {
    const { startServerMailWorker } = await import('./lib/mail/worker');
    startServerMailWorker(getDb);
  }
}
