/**
 * CPU time of this process (all threads, so the libuv pool's work too) per call, for the
 * benches that compare two code paths in one process. CPU time rather than wall time: other
 * work on a shared machine stretches the latter, hardly the former.
 */

/** CPU µs per call of `fn`, with `concurrency` calls in flight for `durationMs`. */
export async function cpuPerCall(durationMs: number, concurrency: number, fn: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const deadline = performance.now() + durationMs;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await fn();
        done++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / done;
}

/** CPU µs per call of a synchronous `fn`, in batches of 1,000 until `durationMs` passed. */
export function cpuPerSyncCall(durationMs: number, fn: () => void): number {
  let done = 0;
  const deadline = performance.now() + durationMs;
  const cpu0 = process.cpuUsage();
  while (performance.now() < deadline) {
    for (let i = 0; i < 1_000; i++) fn();
    done += 1_000;
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / done;
}
