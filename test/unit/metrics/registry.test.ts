import { describe, expect, it, vi } from 'vitest';
import { register as promDefaultRegistry } from 'prom-client';
import { metricDefinitions, otherValue } from '../../../lib/metrics/definitions';
import { metrics } from '../../../lib/metrics/registry';
import {
  countDatabaseError,
  countDuoCall,
  countGateDecision,
  countMailDelivery,
  countSecondFactor,
  countSignIn,
  countThrottleBlock,
  observeRequest,
} from '../../../lib/metrics/record';

/*
 * The registry as /metrics serves it. Personas: Ada, signing in from 203.0.113.7, whose name,
 * address and ids must not appear in a scrape; Mallory, who feeds odd values in.
 */
describe('the metrics registry', () => {
  it('is one per process, however many copies of the module a bundler loads', async () => {
    const first = metrics();
    vi.resetModules();
    const again = await import('../../../lib/metrics/registry');
    expect(again.metrics()).toBe(first);
    // Never prom-client's module-level default registry: each bundled copy would have its own.
    expect(await promDefaultRegistry.getMetricsAsJSON()).toEqual([]);
  });

  it('holds every defined metric and the default process metrics, once', async () => {
    const text = await metrics().registry.metrics();
    for (const d of Object.values(metricDefinitions)) expect(text).toContain(`# TYPE ${d.name} ${d.type}`);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text.match(/# TYPE process_cpu_seconds_total /g)).toHaveLength(1);
    // Nothing made up before there is something to say: no "Duo down" before anyone used Duo.
    for (const absent of ['portcullis_duo_up', 'portcullis_mail_outbox_depth', 'portcullis_mail_worker_last_round_age_seconds', 'portcullis_user_counts_age_seconds']) {
      expect(text).not.toMatch(new RegExp(`^${absent} `, 'm'));
    }
  });

  it('keeps every label value in its list, whatever is recorded, and never Ada’s name, address or ids', async () => {
    const ada = { name: 'ada', ip: '203.0.113.7', id: '0b7c2f9e-user-id' };
    countGateDecision('allow', 'portal');
    countGateDecision('allow', null);
    countGateDecision(ada.name as never, `${ada.ip} ${ada.id}`);
    countSignIn('ok');
    countSignIn(ada.name as never);
    countSecondFactor('totp', 'ok');
    countSecondFactor(ada.id as never, ada.ip);
    countThrottleBlock(ada.ip as never);
    countMailDelivery('sent');
    countDuoCall('health_check', 'ok');
    countDatabaseError('mysql', 'query');
    observeRequest(`/portal/${ada.id}?user=${ada.name}`, 200, 0.01);
    observeRequest(`/${ada.name}`, 404, 0.002);

    const text = await metrics().registry.metrics();
    for (const secret of Object.values(ada)) expect(text).not.toContain(secret);
    const ours = await metrics().registry.getMetricsAsJSON();
    for (const d of Object.values(metricDefinitions)) {
      const metric = ours.find((m) => m.name === d.name)!;
      for (const value of metric.values as { labels: Record<string, string | number> }[]) {
        for (const [label, v] of Object.entries(value.labels)) {
          if (label === 'le') continue; // a histogram bucket's bound
          const allowed = d.labels[label as keyof typeof d.labels] as readonly string[] | 'resource' | undefined;
          expect(allowed, `${d.name}{${label}}`).toBeDefined();
          if (allowed === 'resource') expect(String(v)).toMatch(/^(none|other|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/);
          else expect([...allowed!, otherValue]).toContain(String(v));
        }
      }
    }
    expect(text).toMatch(/portcullis_gate_decisions_total\{kind="allow",resource="portal"\} \d+/);
    expect(text).toMatch(/portcullis_gate_decisions_total\{kind="other",resource="other"\} 1/);
    expect(text).toMatch(/portcullis_http_request_duration_seconds_count\{route="portal",status_class="2xx"\} \d+/);
    expect(text).toMatch(/portcullis_duo_up 1/);
  });

  it('follows Duo’s availability by the last call: answered 1, failed 0; a configuration it can’t use says nothing of Duo', async () => {
    countDuoCall('token', 'refused');
    expect(metrics().duoUp).toBe(1);
    expect(await metrics().registry.metrics()).toMatch(/^portcullis_duo_up 1$/m);
    countDuoCall('health_check', 'error');
    expect(metrics().duoUp).toBe(0);
    countDuoCall('configuration', 'error');
    expect(metrics().duoUp).toBe(0);
  });

  it('says the user counts are cold, without counting, while no count was made', async () => {
    const text = await metrics().registry.metrics();
    expect(text).toContain('portcullis_user_counts_cached 0');
    expect(text).not.toMatch(/portcullis_users\{/);
  });
});
