import { describe, expect, it } from 'vitest';
import { registerDirectRoute } from '../../lib/http/direct-routes';
import {
  existingProcessSingleton,
  forgetProcessSingleton,
  processSingleton,
  processSingletonKey,
  processSingletonNames,
} from '../../lib/process-singletons';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { directHandlerFor } from '../../scripts/direct-route.mjs';
import { registerEntryGate, registeredEntryGate, type EntryGate } from '../../lib/gate/entry-gate';
import { checkConfigAtStart, checkedConfig } from '../../lib/config/start-check';
import { processSingletonKey as entryScriptKey } from '../../scripts/process-singleton.mjs';
import { checkedStartConfig } from '../../scripts/start-config.mjs';
import { markShuttingDown, registerOpsRoutes } from '../../lib/health/ops-routes';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { markShuttingDown as markShuttingDownAtEntry } from '../../scripts/ops-route.mjs';

describe('process singletons', () => {
  it('lives under a Symbol.for key, so every module copy (and plain .mjs) finds the same value', () => {
    for (const name of processSingletonNames) {
      expect(processSingletonKey(name)).toBe(Symbol.for(`portcullis.${name}`));
      // …and the entry scripts' accessor (plain ESM, scripts/process-singleton.mjs) builds the same.
      expect(entryScriptKey(name)).toBe(processSingletonKey(name));
    }
  });

  it('is made once: a second ask gets the first value and does not call create', () => {
    const name = 'mailWorker';
    forgetProcessSingleton(name, existingProcessSingleton(name));
    const first = { made: 1 };
    expect(processSingleton(name, () => first)).toBe(first);
    expect(processSingleton(name, () => ({ made: 2 }))).toBe(first);
    forgetProcessSingleton(name, first);
    expect(existingProcessSingleton(name)).toBeUndefined();
  });

  it('forgets only the value it was told to forget', () => {
    const name = 'mailWorker';
    const current = processSingleton(name, () => ({ current: true }));
    forgetProcessSingleton(name, { stale: true });
    expect(existingProcessSingleton(name)).toBe(current);
    forgetProcessSingleton(name, current);
  });

  it('the entry server (scripts/direct-route.mjs) finds what lib/http/direct-routes.ts registers', () => {
    const handler = async () => new Response('ok');
    registerDirectRoute('post', '/test/singleton-agreement', handler);
    expect(directHandlerFor({ method: 'POST', url: '/test/singleton-agreement?x=1' })).toBe(handler);
    expect(directHandlerFor({ method: 'GET', url: '/test/singleton-agreement' })).toBeUndefined();
  });

  it('the entry server (scripts/entry-gate.mjs) finds the gate lib/gate/entry-gate.ts registers', () => {
    const gate: EntryGate = async () => ({ kind: 'undecided' });
    registerEntryGate(gate);
    expect(registeredEntryGate()).toBe(gate);
    expect((globalThis as unknown as Record<symbol, { gate: EntryGate }>)[Symbol.for('portcullis.entry-gate')]!.gate).toBe(gate);
  });

  it('the entry server (scripts/start-config.mjs) waits for the configuration instrumentation.ts checks, under the same key', async () => {
    const waiting = checkedStartConfig(5_000);
    const config = checkConfigAtStart({ PORT: '4123', HOST: '127.0.0.1', PORTCULLIS_TRUSTED_PROXIES: '1' });
    expect(await waiting).toBe(config);
    expect(checkedConfig()).toBe(config);
    expect(existingProcessSingleton('start-config')).toMatchObject({ config: { port: 4123, host: '127.0.0.1', trustedProxies: { kind: 'hops', hops: 1 } } });
  });

  it('the entry server (scripts/ops-route.mjs) finds the handlers lib/health/ops-routes.ts registers, and both set the same shutting-down flag', () => {
    const key = Symbol.for('portcullis.ops-routes');
    const g = globalThis as unknown as Record<symbol, { readiness: unknown; metrics: unknown; observeRequest: unknown; shuttingDown: boolean } | undefined>;
    delete g[key];
    markShuttingDownAtEntry(); // the entry side first: it makes the holder
    registerOpsRoutes({ db: async () => Promise.reject(new Error('not used')) });
    expect(g[key]!.shuttingDown).toBe(true);
    expect(typeof g[key]!.readiness).toBe('function');
    expect(typeof g[key]!.metrics).toBe('function');
    expect(typeof g[key]!.observeRequest).toBe('function');
    g[key]!.shuttingDown = false;
    markShuttingDown();
    expect(g[key]!.shuttingDown).toBe(true);
    delete g[key];
  });
});
