import { lines, text, texts } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

/** The policy form's fields → the services' input (lib/admin/policies.ts validates it). */

export interface PolicyFormData {
  input: Record<string, unknown>;
  values: NonNullable<FormState['values']>;
}

/** An integer as typed stays a number; anything else stays text for the service to refuse. */
function integerInput(value: string): number | string {
  const trimmed = value.trim();
  if (trimmed === '') return 0;
  return /^-?\d{1,9}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** Blank is "no re-verification" (null); a whole number stays a number; anything else stays text to be refused. */
function minutesInput(value: string): number | string | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  return /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export function policyFormData(formData: FormData): PolicyFormData {
  const values = {
    name: text(formData, 'name'),
    description: text(formData, 'description'),
    enabled: text(formData, 'enabled'),
    scope: text(formData, 'scope'),
    includeGroupIds: texts(formData, 'includeGroupIds'),
    excludeGroupIds: texts(formData, 'excludeGroupIds'),
    ipIn: text(formData, 'ipIn'),
    ipNotIn: text(formData, 'ipNotIn'),
    osIn: texts(formData, 'osIn'),
    browserIn: texts(formData, 'browserIn'),
    resources: texts(formData, 'resources'),
    action: text(formData, 'action'),
    strength: text(formData, 'strength'),
    reverifyMinutes: text(formData, 'reverifyMinutes'),
    rememberDays: text(formData, 'rememberDays'),
    graceDays: text(formData, 'graceDays'),
    priority: text(formData, 'priority'),
  };
  // Issue 18: strength and re-verification belong to require-MFA; the form keeps what was
  // typed for the other actions but sends the neutral values (the service refuses others).
  const requireMfa = values.action === 'require_mfa';
  const scope = values.scope || 'all';
  const input = {
    name: values.name,
    description: values.description,
    // A status that is neither goes through as text, for the service's message.
    enabled: values.enabled === 'on' ? true : values.enabled === 'off' ? false : values.enabled,
    scope,
    // Boxes ticked under "Selected User Groups" mean nothing for All Users.
    includeGroupIds: scope === 'all' ? [] : values.includeGroupIds,
    excludeGroupIds: values.excludeGroupIds,
    conditions: {
      ipIn: lines(values.ipIn),
      ipNotIn: lines(values.ipNotIn),
      osIn: values.osIn,
      browserIn: values.browserIn,
    },
    resources: values.resources,
    action: values.action,
    strength: requireMfa ? values.strength || 'any' : 'any',
    reverifyMinutes: requireMfa ? minutesInput(values.reverifyMinutes) : null,
    // Issue 18 part 3: blank is "not allowed" (null), as for re-verification.
    rememberDays: requireMfa ? minutesInput(values.rememberDays) : null,
    // Issue 18 part 6: blank is 0 (forced at once).
    graceDays: requireMfa ? integerInput(values.graceDays) : 0,
    priority: integerInput(values.priority),
  };
  return { input, values };
}

/** Service field paths → form field names ("conditions.ipIn.3" → "ipIn"). */
export const policyFieldNames: Record<string, string> = {
  'conditions.ipIn': 'ipIn',
  'conditions.ipNotIn': 'ipNotIn',
  'conditions.osIn': 'osIn',
  'conditions.browserIn': 'browserIn',
  conditions: 'conditions',
};
