'use client';

import { useActionState } from 'react';
import { useFormKey } from '../_components/use-form-key';
import { errorsOf, initialFormState, valueOf, valuesOf } from '../_lib/form-state';
import { FieldErrors, FormMessages, invalidProps } from '../_components/fields';
import { actionLabels, browserLabels, osLabels } from './form-options';
import { ImpactView } from './impact-view';
import type { PolicyFormState } from './preview-state';

export interface PolicyFormValues {
  id: string | null;
  name: string;
  description: string;
  enabled: boolean;
  scope: 'all' | 'groups';
  includeGroupIds: string[];
  excludeGroupIds: string[];
  ipIn: string[];
  ipNotIn: string[];
  osIn: string[];
  browserIn: string[];
  resources: string[];
  action: string;
  /** Issue 18, require MFA only. */
  strength: 'any' | 'phishing_resistant';
  reverifyMinutes: number | null;
  /** Issue 18 part 3: "don't ask again on this device for N days", require MFA only. */
  rememberDays: number | null;
  /** Issue 18 part 6, require MFA only. */
  graceDays: number;
  priority: number;
}

type Option = { value: string; label: string };

/** Every field of R-C1..R-C5 in one plain form; works without JavaScript. */
export function PolicyForm({
  policy,
  groups,
  resources,
  action,
  submit,
}: {
  policy: PolicyFormValues;
  groups: Option[];
  resources: Option[];
  action: (state: PolicyFormState, formData: FormData) => Promise<PolicyFormState>;
  submit: string;
}) {
  const [state, formAction, pending] = useActionState<PolicyFormState, FormData>(action, initialFormState);
  const preview = state.preview ?? null;
  const formKey = useFormKey(state);
  const v = (name: string, fallback: string) => valueOf(state, name, fallback);
  const vs = (name: string, fallback: string[]) => new Set(valuesOf(state, name, fallback));
  const e = (name: string) => errorsOf(state, name);
  const enabled = v('enabled', policy.enabled ? 'on' : 'off');
  const scope = v('scope', policy.scope);
  const act = v('action', policy.action);
  const strength = v('strength', policy.strength);
  const included = vs('includeGroupIds', policy.includeGroupIds);
  const excluded = vs('excludeGroupIds', policy.excludeGroupIds);
  const os = vs('osIn', policy.osIn);
  const browsers = vs('browserIn', policy.browserIn);
  const targets = vs('resources', policy.resources);

  const checks = (name: string, options: Option[], checked: Set<string>) =>
    options.map((o) => (
      <label key={o.value} className="check">
        <input type="checkbox" name={name} value={o.value} defaultChecked={checked.has(o.value)} /> {o.label}
      </label>
    ));

  return (
    <form key={formKey} action={formAction} aria-label="Policy">
      {policy.id && <input type="hidden" name="policyId" value={policy.id} />}
      <FormMessages ok={state.ok} error={state.error} />

      <label htmlFor="name">Name</label>
      <input id="name" name="name" type="text" autoComplete="off" maxLength={200} defaultValue={v('name', policy.name)} {...invalidProps('name', e('name'))} />
      <FieldErrors name="name" errors={e('name')} />

      <label htmlFor="description">Description</label>
      <textarea id="description" name="description" rows={2} defaultValue={v('description', policy.description)} {...invalidProps('description', e('description'))} />
      <FieldErrors name="description" errors={e('description')} />

      <fieldset>
        <legend>Status</legend>
        <label className="check">
          <input type="radio" name="enabled" value="on" defaultChecked={enabled === 'on'} /> ON
        </label>
        <label className="check">
          <input type="radio" name="enabled" value="off" defaultChecked={enabled === 'off'} /> OFF
        </label>
        <FieldErrors name="enabled" errors={e('enabled')} />
      </fieldset>

      <fieldset>
        <legend>Users</legend>
        <label className="check">
          <input type="radio" name="scope" value="all" defaultChecked={scope === 'all'} /> All Users
        </label>
        <label className="check">
          <input type="radio" name="scope" value="groups" defaultChecked={scope === 'groups'} /> Selected User Groups
        </label>
        <FieldErrors name="scope" errors={e('scope')} />
        <fieldset>
          <legend>Selected User Groups</legend>
          {groups.length === 0 ? <p className="hint">No groups yet: create them under Groups.</p> : checks('includeGroupIds', groups, included)}
          <FieldErrors name="includeGroupIds" errors={e('includeGroupIds')} />
        </fieldset>
        <fieldset>
          <legend>Excluded User Groups</legend>
          <p className="hint">Always left out, even when a group above or All Users includes them.</p>
          {groups.length === 0 ? <p className="hint">No groups yet.</p> : checks('excludeGroupIds', groups, excluded)}
          <FieldErrors name="excludeGroupIds" errors={e('excludeGroupIds')} />
        </fieldset>
      </fieldset>

      <fieldset>
        <legend>Conditions</legend>
        <p className="hint">Optional. The policy applies only when every condition given holds.</p>
        <label htmlFor="ipIn">Source IP in (CIDR ranges, one per line)</label>
        <textarea id="ipIn" name="ipIn" rows={3} defaultValue={v('ipIn', policy.ipIn.join('\n'))} {...invalidProps('ipIn', e('ipIn'))} />
        <FieldErrors name="ipIn" errors={e('ipIn')} />
        <label htmlFor="ipNotIn">Source IP not in (CIDR ranges, one per line)</label>
        <textarea id="ipNotIn" name="ipNotIn" rows={3} defaultValue={v('ipNotIn', policy.ipNotIn.join('\n'))} {...invalidProps('ipNotIn', e('ipNotIn'))} />
        <FieldErrors name="ipNotIn" errors={e('ipNotIn')} />
        <fieldset>
          <legend>Operating system</legend>
          {checks('osIn', Object.entries(osLabels).map(([value, label]) => ({ value, label })), os)}
          <FieldErrors name="osIn" errors={e('osIn')} />
        </fieldset>
        <fieldset>
          <legend>Browser</legend>
          {checks('browserIn', Object.entries(browserLabels).map(([value, label]) => ({ value, label })), browsers)}
          <FieldErrors name="browserIn" errors={e('browserIn')} />
        </fieldset>
        <FieldErrors name="conditions" errors={e('conditions')} />
      </fieldset>

      <fieldset>
        <legend>Target resources</legend>
        {checks('resources', resources, targets)}
        <FieldErrors name="resources" errors={e('resources')} />
      </fieldset>

      <fieldset>
        <legend>Action</legend>
        {Object.entries(actionLabels).map(([value, label]) => (
          <label key={value} className="check">
            <input type="radio" name="action" value={value} defaultChecked={act === value} /> {label}
          </label>
        ))}
        <FieldErrors name="action" errors={e('action')} />
      </fieldset>

      <fieldset>
        <legend>Second factor (require MFA only)</legend>
        <label className="check">
          <input type="radio" name="strength" value="any" defaultChecked={strength !== 'phishing_resistant'} /> Any second factor
        </label>
        <label className="check">
          <input type="radio" name="strength" value="phishing_resistant" defaultChecked={strength === 'phishing_resistant'} /> Phishing-resistant
          only (security key or passkey, WebAuthn)
        </label>
        <FieldErrors name="strength" errors={e('strength')} />
        <NumericField
          name="reverifyMinutes"
          label="Re-verify after (minutes)"
          placeholder="No limit"
          value={v('reverifyMinutes', policy.reverifyMinutes === null ? '' : String(policy.reverifyMinutes))}
          errors={e('reverifyMinutes')}
        />
        <p className="hint">
          A session whose last second factor is older is asked again, without signing in again: 5 minutes to 43200 (30 days), blank for no limit.
          When several policies match, the strongest strength and the smallest number apply.
        </p>
        <NumericField
          name="rememberDays"
          label="Don’t ask again on a remembered device for (days)"
          placeholder="Not allowed"
          value={v('rememberDays', policy.rememberDays === null ? '' : String(policy.rememberDays))}
          errors={e('rememberDays')}
        />
        <p className="hint">
          After a challenge, people may tick “Don’t ask again on this device” for this many days: 1 to 90, blank to never offer it. Ignored
          where a policy asks for phishing-resistant or re-verification.
        </p>
        <NumericField
          name="graceDays"
          label="Grace days for people entering the scope"
          placeholder="0"
          value={v('graceDays', String(policy.graceDays))}
          errors={e('graceDays')}
        />
        <p className="hint">
          Someone who newly falls under this policy (joins an included group, leaves an excluded one, or is activated) may skip setting up MFA for
          this many days: 0 to 365, 0 forces at once. People already in scope get no grace from a change to the policy.
        </p>
      </fieldset>

      <NumericField name="priority" label="Priority" value={v('priority', String(policy.priority))} errors={e('priority')} />
      <p className="hint">Among matching policies the strictest action wins (deny, then require MFA, then allow); lower priority first within one action.</p>

      {preview && (
        <div className="notice" data-testid="policy-preview">
          {preview.changedSincePreview && (
            <p className="error" role="alert">
              The form changed since the preview, so nothing was saved. Here is the impact of what the form holds now.
            </p>
          )}
          <p>Not saved yet. The policy will be ON: check who it affects, then confirm, or change the fields above and preview again.</p>
          <ImpactView impact={preview.impact} action={preview.action} />
          <input type="hidden" name="previewDigest" value={preview.digest} />
        </div>
      )}

      {pending && (
        <p role="status" data-testid="impact-progress">
          Checking the policy and counting the users it affects…
        </p>
      )}
      {/* First in order, so Enter in a field previews again rather than confirming. */}
      <button type="submit" name="intent" value="preview" disabled={pending} className={preview ? 'secondary' : undefined}>
        {preview ? 'Preview again' : submit}
      </button>
      {preview && (
        <>
          {' '}
          <button type="submit" name="intent" value="confirm" disabled={pending}>
            Confirm: {submit.toLowerCase()}
          </button>
        </>
      )}
    </form>
  );
}

/** A whole-number field of the form: label, text input with the numeric keypad, its errors. */
function NumericField({
  name,
  label,
  placeholder,
  value,
  errors,
}: {
  name: string;
  label: string;
  placeholder?: string;
  value: string;
  errors: readonly string[];
}) {
  return (
    <>
      <label htmlFor={name}>{label}</label>
      <input
        id={name}
        name={name}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        placeholder={placeholder}
        defaultValue={value}
        {...invalidProps(name, errors)}
      />
      <FieldErrors name={name} errors={errors} />
    </>
  );
}
