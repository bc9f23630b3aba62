import { describe, expect, it } from 'vitest';
import { compilePolicies, type PolicyRecord } from '@/lib/policy';
import { policy } from './builders';

describe('compilePolicies', () => {
  it('parses CIDRs once and turns lists into Sets', () => {
    const [p] = compilePolicies([policy('Office').deny().groups('eng', 'ops').excluding('bots').on('portal', 'demo').ipNotIn('10.0.0.0/8').os('linux').build()]);
    expect(p!.ipNotIn).toHaveLength(1);
    expect(p!.ipNotIn![0]).toMatchObject({ v: 4, prefix: 8 });
    expect(p!.ipIn).toBeNull();
    expect([...p!.includeGroups]).toEqual(['eng', 'ops']);
    expect(p!.excludeGroups.has('bots')).toBe(true);
    expect(p!.resources.has('demo')).toBe(true);
    expect(p!.osIn!.has('linux')).toBe(true);
    expect(p!.browserIn).toBeNull();
    expect(p!.ref).toEqual({ id: 'p-office', name: 'Office' });
    expect(Object.isFrozen(p!.ref)).toBe(true);
  });

  it('throws a clear error naming the policy on an invalid CIDR, so the caller fails closed', () => {
    expect(() => compilePolicies([policy('Office').deny().ipIn('10.0.0.0/33').build()])).toThrow(/Policy "Office" \(p-office\): Invalid CIDR "10\.0\.0\.0\/33"/);
    expect(() => compilePolicies([policy('Office').deny().ipNotIn('not-an-ip').build()])).toThrow(/Invalid CIDR/);
  });

  it('still validates an OFF policy (it may be switched ON later)', () => {
    expect(() => compilePolicies([policy('Later').off().ipIn('2001:db8::/129').build()])).toThrow(/Invalid CIDR/);
  });

  it('treats an unknown action as deny (fail closed)', () => {
    const [p] = compilePolicies([policy('Future').action('quarantine').build()]);
    expect(p!.action).toBe('deny');
  });

  it('refuses an unknown scope rather than guessing who it covers', () => {
    const record = { ...policy('Odd').build(), scope: 'everyone' } as unknown as PolicyRecord;
    expect(() => compilePolicies([record])).toThrow(/unknown scope/);
  });

  it('treats empty condition lists as no condition', () => {
    const [p] = compilePolicies([{ ...policy('Empty').build(), conditions: { ipIn: [], ipNotIn: [], osIn: [], browserIn: [] } }]);
    expect(p).toMatchObject({ ipIn: null, ipNotIn: null, osIn: null, browserIn: null });
  });

  it('copes with missing optional fields from a stored row', () => {
    const record = { ...policy('Sparse').build(), conditions: null, includeGroupIds: null, priority: undefined } as unknown as PolicyRecord;
    const [p] = compilePolicies([record]);
    expect(p).toMatchObject({ ipIn: null, priority: Number.POSITIVE_INFINITY });
    expect(p!.includeGroups.size).toBe(0);
  });

  it('does not keep references to the caller\'s arrays', () => {
    const record = policy('Eng').groups('eng').build();
    const [p] = compilePolicies([record]);
    record.includeGroupIds.push('everyone');
    expect(p!.includeGroups.has('everyone')).toBe(false);
    expect(p!.includeGroupList).toEqual(['eng']);
  });
});
