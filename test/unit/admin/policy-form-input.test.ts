import { describe, expect, it } from 'vitest';
import { policyFormData } from '../../../app/admin/policies/form-input';

/** Issue 18: the console's policy form → the service's strength and reverifyMinutes. */
function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries({ name: 'Billing', resources: 'billing', ...fields })) data.append(name, value);
  return data;
}

describe('policyFormData: strength and re-verification', () => {
  it('a require-MFA policy sends what the admin chose; a blank N is "no limit"', () => {
    expect(policyFormData(form({ action: 'require_mfa', strength: 'phishing_resistant', reverifyMinutes: ' 30 ' })).input).toMatchObject({
      strength: 'phishing_resistant',
      reverifyMinutes: 30,
    });
    expect(policyFormData(form({ action: 'require_mfa', strength: 'any', reverifyMinutes: '' })).input).toMatchObject({ strength: 'any', reverifyMinutes: null });
  });

  it('text that is not a whole number goes on as text, for the service to refuse with its message', () => {
    expect(policyFormData(form({ action: 'require_mfa', reverifyMinutes: '1h' })).input).toMatchObject({ reverifyMinutes: '1h' });
  });

  it('an allow or deny policy sends the neutral values, but the form keeps what was typed', () => {
    const { input, values } = policyFormData(form({ action: 'deny', strength: 'phishing_resistant', reverifyMinutes: '30' }));
    expect(input).toMatchObject({ strength: 'any', reverifyMinutes: null });
    expect(values).toMatchObject({ strength: 'phishing_resistant', reverifyMinutes: '30' });
  });
});

describe('policyFormData: grace days (issue 18 part 6)', () => {
  it('a require-MFA policy sends the days typed; blank is 0 (forced at once); an allow or deny policy sends 0', () => {
    expect(policyFormData(form({ action: 'require_mfa', graceDays: ' 7 ' })).input).toMatchObject({ graceDays: 7 });
    expect(policyFormData(form({ action: 'require_mfa', graceDays: '' })).input).toMatchObject({ graceDays: 0 });
    expect(policyFormData(form({ action: 'require_mfa', graceDays: 'a week' })).input).toMatchObject({ graceDays: 'a week' });
    expect(policyFormData(form({ action: 'deny', graceDays: '7' })).input).toMatchObject({ graceDays: 0 });
  });
});
