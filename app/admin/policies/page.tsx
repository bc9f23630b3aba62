import { requirePermission } from '../../../lib/admin/console-guard';
import { listGroups } from '../../../lib/admin/groups';
import { listPolicies } from '../../../lib/admin/policies';
import type { PolicyRecord } from '../../../lib/policy';
import { ConfirmAction } from '../_components/fields';
import { AdminShell } from '../_components/shell';
import { deletePolicyAction, switchPolicyAction } from './actions';
import { actionLabels, browserLabels, osLabels } from './form-options';
import { resourceOptions } from './resource-options';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Policies' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const doneMessages: Record<string, string> = {
  created: 'Policy created.',
  saved: 'Policy saved.',
  on: 'Policy switched ON: it applies from each user’s next request.',
  off: 'Policy switched OFF: it no longer applies, from each user’s next request.',
  deleted: 'Policy deleted.',
};

function conditionsText(p: PolicyRecord): string {
  const parts: string[] = [];
  if (p.conditions.ipIn?.length) parts.push(`IP in ${p.conditions.ipIn.join(', ')}`);
  if (p.conditions.ipNotIn?.length) parts.push(`IP not in ${p.conditions.ipNotIn.join(', ')}`);
  if (p.conditions.osIn?.length) parts.push(`OS: ${p.conditions.osIn.map((o) => osLabels[o]).join(', ')}`);
  if (p.conditions.browserIn?.length) parts.push(`Browser: ${p.conditions.browserIn.map((b) => browserLabels[b]).join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'None';
}

/** R-C1..R-C6: the conditional access policies, with their ON/OFF switch. */
export default async function PoliciesPage({ searchParams }: { searchParams: SearchParams }) {
  const { session, db } = await requirePermission('policies.view', '/admin/policies'); // R-D9
  const query = await searchParams;
  const [policies, groups] = await Promise.all([listPolicies(db), listGroups(db)]);
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  const resourceName = new Map(resourceOptions().map((r) => [r.value, r.label]));
  const names = (ids: string[]) => ids.map((id) => groupName.get(id) ?? id).join(', ');
  const done = typeof query.done === 'string' ? doneMessages[query.done] : undefined;
  return (
    <AdminShell title="Conditional access policies" session={session} current="/admin/policies">
      <p>
        <a href="/admin/policies/new">New policy</a> · <a href="/admin/policies/what-if">What if…</a>{' '}
        <span className="hint">(what the gate would decide for a user and request, and why)</span>
      </p>
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      {query.error === 'not_found' && (
        <p className="error" role="alert">
          That policy no longer exists.
        </p>
      )}
      <p className="hint">When several policies match a request, the strictest action wins: deny, then require MFA, then allow.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Users</th>
            <th scope="col">Conditions</th>
            <th scope="col">Resources</th>
            <th scope="col">Action</th>
            <th scope="col">Priority</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {policies.length === 0 ? (
            <tr>
              <td colSpan={8}>No policies yet.</td>
            </tr>
          ) : (
            policies.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={`/admin/policies/${encodeURIComponent(p.id)}`}>{p.name}</a>
                  {p.description && <p className="hint">{p.description}</p>}
                </td>
                <td>
                  <span data-testid="policy-status">{p.enabled ? 'ON' : 'OFF'}</span>
                  {p.enabled ? (
                    <form action={switchPolicyAction} className="inline">
                      <input type="hidden" name="policyId" value={p.id} />
                      <input type="hidden" name="enabled" value="off" />{' '}
                      <button type="submit" className="secondary" aria-label={`Switch ${p.name} policy OFF`}>
                        Switch OFF
                      </button>
                    </form>
                  ) : (
                    // Issue 18 §5: switching ON goes through the impact preview first.
                    <>
                      {' '}
                      <a href={`/admin/policies/${encodeURIComponent(p.id)}/switch-on`} aria-label={`Switch ${p.name} policy ON`}>
                        Switch ON…
                      </a>
                    </>
                  )}
                </td>
                <td>
                  {p.scope === 'all' ? 'All Users' : `Groups: ${names(p.includeGroupIds)}`}
                  {p.excludeGroupIds.length > 0 && <p className="hint">Excluding {names(p.excludeGroupIds)}</p>}
                </td>
                <td>{conditionsText(p)}</td>
                <td>{p.resources.map((r) => resourceName.get(r) ?? r).join(', ')}</td>
                <td>
                  {actionLabels[p.action]}
                  {p.strength === 'phishing_resistant' && <p className="hint">Phishing-resistant only</p>}
                  {p.reverifyMinutes != null && <p className="hint">Re-verify after {p.reverifyMinutes} min</p>}
                  {p.rememberDays != null && <p className="hint">Remembers devices for {p.rememberDays} days</p>}
                  {(p.graceDays ?? 0) > 0 && <p className="hint">{p.graceDays} grace days on entering</p>}
                </td>
                <td data-testid="policy-priority">{p.priority}</td>
                <td>
                  <ConfirmAction
                    summary="Delete…"
                    action={deletePolicyAction}
                    fields={{ policyId: p.id }}
                    label={`Delete policy ${p.name}`}
                  />
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </AdminShell>
  );
}
