import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { defaultPasswordThreads, parsePasswordNice, parsePasswordThreads } from './password-threads';

/**
 * argon2id verification on a small pool of worker threads of our own, instead of libuv's
 * shared thread pool:
 * - one thread per core (at most 4, `PORTCULLIS_PASSWORD_THREADS` overrides), so verifies
 *   run to completion instead of four 19 MiB hashes time-slicing two cores and evicting
 *   each other's memory;
 * - each thread lowers its own scheduling priority (nice `PORTCULLIS_PASSWORD_NICE`,
 *   default 10, Linux: setpriority on the thread id), so the event loop, and with it every
 *   other page, is served first while sign-ins hash in the background;
 * - libuv's pool stays free for file system, DNS and crypto jobs.
 * The threads only verify; a request that arrives while all are busy waits in a FIFO queue.
 * A stored hash asking for more than `hashLimits` reads as a wrong password instead of
 * taking the process down with a huge allocation. If the pool cannot start (no worker_threads, module not found), verification falls back
 * to @node-rs/argon2's own asynchronous verify on libuv's pool: slower, never wrong.
 */

export interface PasswordPoolOptions {
  threads?: number;
  nice?: number;
}

interface Task {
  hash: string;
  password: string;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Sent to this thread, oldest first; it answers them in order. */
  tasks: Task[];
}

/**
 * Verifies handed to one thread at a time: the one it works on and the next, already waiting
 * in its message queue, so it starts that one without a round trip through the event loop.
 */
const depth = 2;

// Runs inside each worker (plain CommonJS, evaluated from a string so that bundlers leave it
// alone). It resolves @node-rs/argon2 from the app's directory (the working directory, or
// the server script's), as the server does.
const workerSource = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const os = require('node:os');
const { createRequire } = require('node:module');
let argon2;
for (const base of workerData.bases) {
  try {
    argon2 = createRequire(base)('@node-rs/argon2');
    break;
  } catch {}
}
argon2 ??= require('@node-rs/argon2');
let niced = false;
if (workerData.nice > 0) {
  try {
    // /proc/thread-self -> "<pid>/task/<tid>": setpriority() on a tid changes that thread only.
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) {
      os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.nice));
      niced = true;
    }
  } catch {}
}
const limits = workerData.limits;
parentPort.on('message', (m) => {
  let o;
  try {
    o = argon2.parseOptions(m.h);
  } catch {
    // A malformed or unsupported stored hash reads as "wrong password".
    parentPort.postMessage(false);
    return;
  }
  // A hash demanding absurd resources can only be a corrupt or planted row: argon2 would try
  // to allocate it (m=4294967295 is 4 TiB) and abort the whole process. Judge it wrong instead.
  if (o.memoryCost > limits.memoryCost || o.timeCost > limits.timeCost || o.parallelism > limits.parallelism) {
    parentPort.postMessage(false);
    return;
  }
  let ok;
  try {
    ok = argon2.verifySync(m.h, m.p) === true;
  } catch (err) {
    // Not a verdict: the verify itself failed (a thread being stopped fails its native call).
    // Answering false here would tell a user with the right password that it is wrong.
    parentPort.postMessage({ error: String((err && err.message) || err) });
    return;
  }
  parentPort.postMessage(ok);
});
parentPort.postMessage({ ready: true, niced });
`;

/** The most a stored hash may ask for: far above OWASP's parameters, far below harm. */
export const hashLimits = { memoryCost: 256 * 1024, timeCost: 16, parallelism: 8 } as const;

export class PasswordPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private closed = false;
  readonly threads: number;
  readonly nice: number;
  /** Threads that confirmed they lowered their priority (for tests and diagnostics). */
  nicedThreads = 0;
  private readonly ready: Promise<void>;

  constructor(options: PasswordPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
    this.nice = Math.max(0, Math.min(19, Math.floor(options.nice ?? defaultNice())));
    const started: Promise<void>[] = [];
    for (let i = 0; i < this.threads; i++) started.push(this.spawn());
    this.ready = Promise.all(started).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** Resolves once every thread has loaded argon2; rejects if one could not. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** True when the password matches; false when not or when the hash is malformed. Rejects only if the pool broke. */
  verify(hash: string, password: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('password pool is closed'));
    return new Promise<boolean>((resolve, reject) => {
      const task: Task = { hash, password, resolve, reject };
      let best: Slot | undefined;
      for (const slot of this.slots) if (!best || slot.tasks.length < best.tasks.length) best = slot;
      if (best && best.tasks.length < depth && (best.tasks.length === 0 || this.queue.length === 0)) this.send(best, task);
      else this.queue.push(task);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.queue.splice(0);
    for (const t of pending) t.reject(new Error('password pool is closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private send(slot: Slot, task: Task): void {
    slot.tasks.push(task);
    // Referenced while it works, so a pending verify keeps the process alive (CLI, scripts).
    if (slot.tasks.length === 1) slot.worker.ref();
    slot.worker.postMessage({ h: task.hash, p: task.password });
  }

  private spawn(): Promise<void> {
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: { bases: moduleBases(), nice: this.nice, limits: hashLimits },
      // Small heaps: the threads hold two strings at a time; argon2's memory is native.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    const slot: Slot = { worker, tasks: [] };
    return new Promise<void>((resolveReady, rejectReady) => {
      let isReady = false;
      worker.on('message', (m: unknown) => {
        if (!isReady) {
          isReady = true;
          if ((m as { niced?: boolean }).niced) this.nicedThreads++;
          this.slots.push(slot);
          resolveReady();
          this.fill(slot);
          return;
        }
        const task = slot.tasks.shift();
        if (typeof m === 'object' && m !== null && 'error' in m) task?.reject(new Error(`password verify failed: ${String((m as { error: unknown }).error)}`));
        else task?.resolve(m === true);
        this.fill(slot);
      });
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        const i = this.slots.indexOf(slot);
        if (i !== -1) this.slots.splice(i, 1);
        // Fail closed: the callers answer "unavailable"; no password is judged.
        for (const task of slot.tasks.splice(0)) task.reject(err);
        if (!isReady) {
          rejectReady(err);
          return;
        }
        if (!this.closed) this.spawn().catch(() => this.failQueued(err));
      };
      worker.on('error', (err) => fail(err instanceof Error ? err : new Error(String(err))));
      worker.on('exit', (code) => {
        if (!this.closed || slot.tasks.length > 0) fail(new Error(`password worker exited (${code})`));
      });
    });
  }

  /** Tops a thread up from the queue; lets it go idle (unreferenced) when there is nothing. */
  private fill(slot: Slot): void {
    while (slot.tasks.length < depth && this.queue.length > 0) this.send(slot, this.queue.shift()!);
    if (slot.tasks.length === 0) slot.worker.unref();
  }

  private failQueued(err: Error): void {
    if (this.slots.length > 0) return;
    for (const t of this.queue.splice(0)) t.reject(err);
  }
}

function moduleBases(): string[] {
  const bases = [path.join(process.cwd(), 'package.json')];
  if (process.argv[1]) bases.push(path.resolve(process.argv[1]));
  return bases;
}

// The start check (lib/config/schema.ts) refused bad values already; these parse them alike.
function defaultThreads(): number {
  return parsePasswordThreads(process.env.PORTCULLIS_PASSWORD_THREADS) || defaultPasswordThreads();
}

function defaultNice(): number {
  return parsePasswordNice(process.env.PORTCULLIS_PASSWORD_NICE);
}
