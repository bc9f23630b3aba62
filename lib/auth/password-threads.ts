import os from 'node:os';

/**
 * PORTCULLIS_PASSWORD_THREADS and PORTCULLIS_PASSWORD_NICE, read strictly: the password pool
 * (password-pool.ts) sizes and lowers its threads by them, and the configuration check at
 * start (lib/config/schema.ts) refuses what they refuse. Kept apart from the pool so the
 * check needn't load worker_threads.
 */

/** More threads than this only queue more 19 MiB hashes on the same cores. */
export const maxPasswordThreads = 64;
export const defaultPasswordNice = 10;

/** One thread per core, at most 4: what the pool starts when the variable is unset. */
export function defaultPasswordThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

/**
 * Verify threads: a whole number from 0 to 64; 0 verifies on libuv's pool instead. Unset or
 * empty → undefined (the default, defaultPasswordThreads()).
 * @throws Error naming the variable
 */
export function parsePasswordThreads(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= maxPasswordThreads)) {
    throw new Error(`PORTCULLIS_PASSWORD_THREADS must be a whole number from 0 (libuv's pool) to ${maxPasswordThreads}`);
  }
  return n;
}

/**
 * The threads' niceness: a whole number from 0 (the server's own priority) to 19 (the
 * lowest); 10 when unset. Lower than the server's would need privileges it shouldn't have.
 * @throws Error naming the variable
 */
export function parsePasswordNice(raw: string | undefined): number {
  if (raw === undefined || raw === '') return defaultPasswordNice;
  const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 19)) throw new Error('PORTCULLIS_PASSWORD_NICE must be a whole number from 0 to 19');
  return n;
}
