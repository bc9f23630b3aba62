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
import { shuttingDown } from '../../lib/http/shutdown-state';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { shuttingDown as entryServerShuttingDown } from '../../scripts/graceful-shutdown.mjs';
import { checkConfigAtStart, checkedConfig } from '../../lib/config/start-check';
import { checkedStartConfig } from '../../scripts/start-config.mjs';

describe('process singletons', () => {
  it('lives under a Symbol.for key, so every module copy (and plain .mjs) finds the same value', () => {
    for (const name of processSingletonNames) expect(processSingletonKey(name)).toBe(Symbol.for(`portcullis.${name}`));
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

  it('readiness (lib/http/shutdown-state.ts) sees the shutdown scripts/graceful-shutdown.mjs marks', () => {
    expect(shuttingDown()).toBe(false);
    expect(entryServerShuttingDown()).toBe(false);
    (globalThis as unknown as Record<symbol, unknown>)[Symbol.for('portcullis.shutdown')] = { since: Date.now() };
    expect(shuttingDown()).toBe(true);
    expect(entryServerShuttingDown()).toBe(true);
    delete (globalThis as unknown as Record<symbol, unknown>)[Symbol.for('portcullis.shutdown')];
  });

  it('the entry server (scripts/start-config.mjs) waits for the configuration instrumentation.ts checks, under the same key', async () => {
    const waiting = checkedStartConfig(5_000);
    const config = checkConfigAtStart({ PORT: '4123', HOST: '127.0.0.1', PORTCULLIS_TRUSTED_PROXIES: '1' });
    expect(await waiting).toBe(config);
    expect(checkedConfig()).toBe(config);
    expect(existingProcessSingleton('start-config')).toMatchObject({ config: { port: 4123, host: '127.0.0.1', trustedProxies: { kind: 'hops', hops: 1 } } });
  });
});
