/**
 * What lives for the whole server process, and why it sits on globalThis.
 *
 * A bundler may load a module twice: Next.js bundles middleware, pages, route handlers and
 * instrumentation.ts apart, and the entry server (scripts/server.mjs) is not bundled at all.
 * A module-level variable would then exist once per copy, and each copy would open its own
 * database pool, start its own password threads or mail worker, or keep its own lock. Each
 * value below is kept under a `Symbol.for` key instead, which every copy (and plain .mjs)
 * resolves to the same symbol, so they all share one:
 *
 * - `db`: the server's database handle, opened and migrated once (db/index.ts getDb()).
 * - `passwordPool`: the argon2 verify threads (lib/auth/password.ts).
 * - `direct-routes`: handlers instrumentation.ts registers and scripts/server.mjs serves
 *   (lib/http/direct-routes.ts; scripts/direct-route.mjs reads the same key, see there).
 * - `entry-gate`: the portal's gate instrumentation.ts registers and scripts/server.mjs runs
 *   ahead of Next.js (lib/gate/entry-gate.ts; scripts/entry-gate.mjs reads the same key).
 * - `forward-auth-routes`: the forward-auth deciders instrumentation.ts registers and
 *   scripts/server.mjs serves from node's own request (lib/gate/forward-auth.ts;
 *   scripts/forward-auth-route.mjs reads the same key).
 * - `mailWorker`: the worker the server starts (lib/mail/worker.ts).
 * - `sqlite-file-locks`: one lock per SQLite file for every handle on it (db/sqlite-file-lock.ts).
 * - `request-context`: the AsyncLocalStorage that carries each request's id to log lines
 *   (lib/log/logger.cjs, CommonJS for the entry scripts, builds the same key itself).
 * - `password-blocklist`: the common/breached password list, ~10 MB unpacked, read on the
 *   first password set (lib/auth/password-blocklist.ts).
 * - `user-counts`: the console's cached users-per-status counts, so that a change made
 *   through one module copy (a server action) marks the count another copy (the page)
 *   serves (lib/admin/user-counts.ts).
 * - `start-config`: the configuration checked once at start (lib/config/start-check.ts), which
 *   instrumentation.ts register() keeps and scripts/server.mjs waits for before it listens
 *   (scripts/start-config.mjs makes the slot under the same key, for both sides).
 * - `metrics`: the one Prometheus registry and its metrics, so the gate in middleware.ts,
 *   the route handlers, server actions and the worker all count into what /metrics serves
 *   (lib/metrics/registry.ts; prom-client's own default registry would be one per copy).
 * - `ops-routes`: /readyz and /metrics handlers instrumentation.ts registers and
 *   scripts/server.mjs serves, and the "shutting down" flag readiness reads
 *   (lib/health/ops-routes.ts; scripts/ops-route.mjs reads the same key).
 *
 * Those that exist for speed are justified in bench/RESULTS.md, "Speed machinery".
 */
export const processSingletonNames = ['db', 'passwordPool', 'direct-routes', 'entry-gate', 'forward-auth-routes', 'mailWorker', 'sqlite-file-locks', 'request-context', 'password-blocklist', 'user-counts', 'start-config', 'metrics', 'ops-routes'] as const;
export type ProcessSingletonName = (typeof processSingletonNames)[number];

/** The global symbol a singleton lives under; plain .mjs readers build the same string. */
export function processSingletonKey(name: ProcessSingletonName): symbol {
  return Symbol.for(`portcullis.${name}`);
}

type Registry = Record<symbol, unknown>;

/** The process's value for `name`, made by `create` the first time anyone asks. */
export function processSingleton<T>(name: ProcessSingletonName, create: () => T): T {
  const g = globalThis as unknown as Registry;
  const key = processSingletonKey(name);
  if (!(key in g)) g[key] = create();
  return g[key] as T;
}

/** The process's value for `name` if one has been made, else undefined. */
export function existingProcessSingleton<T>(name: ProcessSingletonName): T | undefined {
  return (globalThis as unknown as Registry)[processSingletonKey(name)] as T | undefined;
}

/**
 * Forgets `name` so the next processSingleton() makes a new one, but only while `value` is
 * still the one held (a later value made meanwhile is kept).
 */
export function forgetProcessSingleton(name: ProcessSingletonName, value: unknown): void {
  const g = globalThis as unknown as Registry;
  const key = processSingletonKey(name);
  if (g[key] === value) delete g[key];
}

/** Puts `value` in place of whatever `name` held: for harnesses that bring their own (bench/gate.ts). */
export function replaceProcessSingleton<T>(name: ProcessSingletonName, value: T): void {
  (globalThis as unknown as Registry)[processSingletonKey(name)] = value;
}
