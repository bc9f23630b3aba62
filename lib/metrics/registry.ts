/**
 * The process's one Prometheus registry and the metrics in it (./definitions.ts), made on
 * first use and kept as a process singleton (lib/process-singletons.ts, `metrics`): Next.js
 * bundles the gate's middleware, the route handlers, the server actions and
 * instrumentation.ts apart, and each copy of this module must count into the same counters
 * that /metrics serves. prom-client's module-level default registry is never used: each
 * bundled copy of prom-client would have its own.
 *
 * Recording is a counter increment in memory, at the place the outcome is decided
 * (./record.ts). Gauges that need the database are never computed per scrape: the outbox's
 * depth comes from the mail worker's round (./outbox-gauges.ts), the users per status from
 * the console's cached count (./scrape-sources.ts).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { existingProcessSingleton, processSingleton } from '../process-singletons';
import { metricDefinitions, requestDurationBuckets, userStatuses, type MetricDefinition } from './definitions';

/** The users-per-status count a scrape may read: from the cache only (never counted for the scrape). */
export interface CachedUserCounts {
  byStatus: Record<(typeof userStatuses)[number], number>;
  /** When it was counted (epoch ms). */
  asOf: number;
}

/**
 * What a scrape reads besides counters, installed at start-up by instrumentation.ts
 * (./scrape-sources.ts): kept apart so this module imports neither the database nor the
 * console (db/index.ts imports it to count database errors).
 */
export interface ScrapeSources {
  /** The cached count, or null while none was made. Must not count. */
  userCounts?: () => Promise<CachedUserCounts | null>;
  /** The mail worker in this process: when its last round finished (or it started), in performance.now() ms; null without one. */
  mailWorkerLastRoundAt?: () => number | null;
}

/** Outbox backlog as of the mail worker's last look (./outbox-gauges.ts). */
export interface OutboxSnapshot {
  depth: number;
  oldestAgeSeconds: number;
}

export interface PortcullisMetrics {
  registry: Registry;
  gateDecisions: Counter<'kind' | 'resource'>;
  signIns: Counter<'outcome'>;
  secondFactorVerifications: Counter<'method' | 'outcome'>;
  throttleBlocks: Counter<'kind'>;
  mailDeliveries: Counter<'outcome'>;
  duoCalls: Counter<'call' | 'outcome'>;
  /** 1 when the last call to Duo was answered, 0 when it failed, null before the first. */
  duoUp: 0 | 1 | null;
  databaseErrors: Counter<'dialect' | 'kind'>;
  requestDuration: Histogram<'route' | 'status_class'>;
  /** Resource ids given out as labels so far (definitions.ts resourceLabel). */
  resources: Set<string>;
  sources: ScrapeSources;
  outbox: OutboxSnapshot | null;
  /** When the worker last looked at the outbox (performance.now() ms; ./outbox-gauges.ts). */
  outboxLookedAt?: number;
  /** The read of the user counts in flight (readUserCounts). */
  userCountsRead?: Promise<CachedUserCounts | null>;
}

const labelNames = (d: MetricDefinition) => Object.keys(d.labels);

/**
 * A gauge without labels that has no sample while `read` says null: prom-client's own Gauge
 * always shows one (0), and a made-up 0 is worse than none ("Duo down" before anyone used
 * Duo, "an outbox of 0" in a process without a worker). Registered as a plain collector.
 */
function optionalGauge(registry: Registry, d: MetricDefinition, read: () => number | null | Promise<number | null>): void {
  const metric = {
    name: d.name,
    help: d.help,
    type: 'gauge',
    aggregator: 'sum',
    async get() {
      const value = await read();
      return { name: d.name, help: d.help, type: 'gauge', aggregator: 'sum', values: value === null ? [] : [{ value, labels: {} }] };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

function createMetrics(): PortcullisMetrics {
  const registry = new Registry();
  const defs = metricDefinitions;
  const on = { registers: [registry] };
  const counter = <L extends string>(d: MetricDefinition) => new Counter<L>({ name: d.name, help: d.help, labelNames: labelNames(d) as L[], ...on });
  const state: PortcullisMetrics = {
    registry,
    gateDecisions: counter(defs.gateDecisions),
    signIns: counter(defs.signIns),
    secondFactorVerifications: counter(defs.secondFactorVerifications),
    throttleBlocks: counter(defs.throttleBlocks),
    mailDeliveries: counter(defs.mailDeliveries),
    duoCalls: counter(defs.duoCalls),
    duoUp: null,
    databaseErrors: counter(defs.databaseErrors),
    requestDuration: new Histogram({
      name: defs.requestDuration.name,
      help: defs.requestDuration.help,
      labelNames: labelNames(defs.requestDuration) as ('route' | 'status_class')[],
      buckets: requestDurationBuckets,
      ...on,
    }),
    resources: new Set(),
    sources: {},
    outbox: null,
  };

  // Read at scrape time from memory; absent (no sample) while there is nothing to say.
  new Gauge({
    name: defs.users.name,
    help: defs.users.help,
    labelNames: ['status'],
    ...on,
    async collect() {
      this.reset();
      const counts = await readUserCounts(state);
      if (counts) for (const status of userStatuses) this.set({ status }, counts.byStatus[status]);
    },
  });
  optionalGauge(registry, defs.userCountsAge, async () => {
    const counts = await readUserCounts(state);
    return counts ? Math.max(0, (Date.now() - counts.asOf) / 1000) : null;
  });
  new Gauge({
    name: defs.userCountsCached.name,
    help: defs.userCountsCached.help,
    ...on,
    async collect() {
      this.set((await readUserCounts(state)) ? 1 : 0);
    },
  });
  optionalGauge(registry, defs.outboxDepth, () => state.outbox?.depth ?? null);
  optionalGauge(registry, defs.outboxOldestAge, () => state.outbox?.oldestAgeSeconds ?? null);
  optionalGauge(registry, defs.mailWorkerLastRoundAge, () => {
    const at = state.sources.mailWorkerLastRoundAt?.() ?? null;
    return at === null ? null : Math.max(0, (performance.now() - at) / 1000);
  });
  optionalGauge(registry, defs.duoUp, () => state.duoUp);

  // process_* and nodejs_* (CPU, memory, event loop lag, GC), once: this runs once per process.
  collectDefaultMetrics({ register: registry });
  return state;
}

/**
 * The three user gauges of one scrape share one read of the cache, so they always agree: a
 * scrape collects every metric at once, and a read still in flight is handed to the others.
 */
function readUserCounts(state: PortcullisMetrics): Promise<CachedUserCounts | null> {
  const source = state.sources.userCounts;
  if (!source) return Promise.resolve(null);
  if (state.userCountsRead) return state.userCountsRead;
  const read = source()
    .catch(() => null)
    .finally(() => {
      if (state.userCountsRead === read) state.userCountsRead = undefined;
    });
  state.userCountsRead = read;
  return read;
}

/** The process's metrics, made (with the default process metrics) on first use. */
export function metrics(): PortcullisMetrics {
  return processSingleton('metrics', createMetrics);
}

/** The process's metrics if something made them, else undefined (nothing is made). */
export function existingMetrics(): PortcullisMetrics | undefined {
  return existingProcessSingleton<PortcullisMetrics>('metrics');
}

/** Installs what a scrape reads besides counters (instrumentation.ts, once at start-up). */
export function installScrapeSources(sources: ScrapeSources): void {
  Object.assign(metrics().sources, sources);
}

/** The Prometheus text exposition of everything in the registry. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
