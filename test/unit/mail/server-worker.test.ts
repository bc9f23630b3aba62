import { describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { startServerMailWorker } from '../../../lib/mail/worker';

// The hook instrumentation.ts calls when the server starts.
describe('the mail worker started with the server', () => {
  const unreachable = () => Promise.reject<Db>(new Error('database not reachable (test)'));

  it('PORTCULLIS_DISABLE_WORKER=1 starts none', () => {
    expect(startServerMailWorker(unreachable, { PORTCULLIS_DISABLE_WORKER: '1', NODE_ENV: 'test' })).toBeNull();
  });

  it('one per process, however often the hook runs (dev reloads); a stopped one can be started again', async () => {
    const env = { NODE_ENV: 'test', PORTCULLIS_REMINDER_OFFSETS: '3d,1d' };
    const first = startServerMailWorker(unreachable, env);
    expect(first).not.toBeNull();
    expect(startServerMailWorker(unreachable, env)).toBe(first);
    await first!.stop();
    const second = startServerMailWorker(unreachable, env);
    expect(second).not.toBe(first);
    await second!.stop();
  });
});
