// What the entry server does on SIGTERM (or SIGINT): a rolling deploy or `docker stop` asks
// it to go, and nobody's request, sign-in or mail should be lost on the way out.
//
// 1. Stop accepting connections (server.close(); idle keep-alive connections close now).
// 2. Let requests in flight finish, until PORTCULLIS_SHUTDOWN_TIMEOUT (25 s by default, under
//    Kubernetes' 30 s grace period); then the connections still open are cut.
// 3. Meanwhile the mail worker takes nothing new and finishes the message in hand; one still
//    in hand at the deadline goes back to pending, due at once, for the next worker
//    (lib/mail/worker.ts stop()), instead of waiting 5 minutes for its lease to end.
// 4. Close the database pool, then exit 0.
// A second signal exits at once (1): an operator pressing Ctrl-C twice means it.

import { markShuttingDown } from './ops-route.mjs';
import { existingProcessSingleton } from './process-singleton.mjs';

// The values instrumentation.ts registers (lib/process-singletons.ts), which this plain ESM
// can't import; test/unit/process-singletons.test.ts checks both sides name the same symbols.

export { shutdownTimeoutMs } from '../lib/config/shutdown-timeout.mjs';

/**
 * Installs the handlers. `signals` and `exit` are for tests; the server passes neither.
 * @returns the shutdown function itself (the signal handlers call it)
 */
export function installGracefulShutdown({ server, log, timeoutMs, signals = ['SIGTERM', 'SIGINT'], exit = (code) => process.exit(code) }) {
  let started = null;
  const shutdown = (signal) => {
    if (started) {
      log.warn(`${signal} again: exiting now, without waiting for requests in flight`);
      exit(1);
      return started;
    }
    started = drain(signal);
    return started;
  };

  async function drain(signal) {
    const deadline = performance.now() + timeoutMs;
    // Readiness answers 503 from now on, so a load balancer on a keep-alive connection stops sending.
    markShuttingDown();
    log.info(`${signal}: shutting down; finishing requests in flight (at most ${Math.round(timeoutMs / 1000)} s)`);

    const requestsDone = new Promise((resolve) => server.close(() => resolve(true)));
    // close() ends the connections idle now; one whose request finishes later would stay open
    // for the keep-alive timeout (5 s) and hold the shutdown. Close those as they go idle.
    const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
    const worker = existingProcessSingleton('mailWorker');
    const workerDone = worker
      ? worker.stop({ withinMs: timeoutMs }).catch((err) => {
          log.error({ err }, 'mail worker did not stop cleanly');
          return { finished: false, released: 0 };
        })
      : Promise.resolve(null);

    const inTime = await Promise.race([requestsDone, sleep(Math.max(0, deadline - performance.now())).then(() => false)]);
    clearInterval(closeIdle);
    if (!inTime) {
      log.warn('shutdown deadline reached: closing the connections still open');
      server.closeAllConnections();
    }
    const stopped = await workerDone;
    if (stopped && !stopped.finished) log.warn(`mail worker stopped at the deadline; ${stopped.released} message(s) released for the next worker`);

    const db = existingProcessSingleton('db');
    if (db) {
      try {
        await (await db).close();
      } catch (err) {
        // A database that never opened (or already went away) has nothing to close.
        log.warn({ err }, 'database pool did not close cleanly');
      }
    }
    log.info('shut down');
    exit(0);
  }

  for (const signal of signals) process.on(signal, () => void shutdown(signal));
  return shutdown;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
