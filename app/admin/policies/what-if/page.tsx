import { requirePermission } from '../../../../lib/admin/console-guard';
import { browserFamilies, osFamilies } from '../../../../lib/admin/policies';
import { whatIf, type CriterionResult, type WhatIfResult } from '../../../../lib/admin/what-if';
import { systemClock } from '../../../../lib/clock';
import { isNotFoundError, isValidationError } from '../../../../lib/errors/brand';
import type { Method } from '../../../../lib/policy';
import { AdminShell } from '../../_components/shell';
import { actionLabels, browserLabels, osLabels } from '../form-options';
import { resourceOptions } from '../resource-options';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'What if' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const fieldNames = ['user', 'resource', 'ip', 'os', 'browser', 'at', 'secondFactor'] as const;
type Fields = Record<(typeof fieldNames)[number], string>;

function one(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value.slice(0, 300).trim() : '';
}

const methodLabels: Record<Method, string> = { totp: 'TOTP', webauthn: 'WebAuthn', duo: 'Duo' };
const secondFactorOptions = [
  { value: 'none', label: 'Password only' },
  { value: 'totp', label: 'Password and TOTP' },
  { value: 'webauthn', label: 'Password and WebAuthn' },
  { value: 'duo', label: 'Password and Duo' },
];

function decisionWords(d: WhatIfResult['decision']): string {
  const methods = (d.methods ?? []).map((m) => methodLabels[m]).join(', ');
  switch (d.kind) {
    case 'allow':
      return 'Allowed';
    case 'deny':
      return 'Denied';
    case 'challenge':
      return `Asked for a second factor (${methods})`;
    case 'enroll':
      return `Sent to Set Up MFA (${methods}), ${d.forced ? 'with no way to skip' : 'with “Skip for now”'}`;
    case 'locked':
      return 'Locked out: the enrollment period ended';
    case 'login':
      return 'Sent to the sign-in page: this user cannot sign in';
  }
}

/** The questions the form asks, read from the query: the form is a GET, it changes nothing. */
async function answer(db: Parameters<typeof whatIf>[0], f: Fields): Promise<{ result: WhatIfResult | null; errors: string[] }> {
  const base = {
    resource: f.resource,
    ip: f.ip || 'unknown',
    os: f.os,
    browser: f.browser,
    secondFactor: f.secondFactor || 'none',
    ...(f.at ? { at: f.at } : {}),
  };
  try {
    try {
      return { result: await whatIf(db, { ...base, user: { username: f.user } }, systemClock), errors: [] };
    } catch (err) {
      // The one field takes a username or an id: an unknown username is tried as an id.
      if (!isNotFoundError(err)) throw err;
      return { result: await whatIf(db, { ...base, user: { id: f.user } }, systemClock), errors: [] };
    }
  } catch (err) {
    if (isNotFoundError(err)) return { result: null, errors: [`No user has the username or id “${f.user}”.`] };
    if (isValidationError(err)) return { result: null, errors: Object.values(err.fieldErrors).flat() };
    throw err;
  }
}

function Criterion({ c }: { c: CriterionResult }) {
  if (c.outcome === 'not_set') return <span className="hint">{c.why}</span>;
  return (
    <>
      <strong>{c.outcome === 'pass' ? 'Yes' : 'No'}</strong>: {c.why}
    </>
  );
}

/** Issue 18 §4: what the gate would decide for a user and request, and why each policy applies or not. */
export default async function WhatIfPage({ searchParams }: { searchParams: SearchParams }) {
  const query = await searchParams;
  const f = Object.fromEntries(fieldNames.map((n) => [n, one(query[n])])) as Fields;
  const { session, db } = await requirePermission('policies.what_if', '/admin/policies/what-if'); // R-D9
  const resources = resourceOptions();
  const { result, errors } = f.user ? await answer(db, f) : { result: null, errors: [] };

  return (
    <AdminShell title="What if" session={session} current="/admin/policies">
      <p>
        <a href="/admin/policies">Back to the policies</a>
      </p>
      <p className="hint">
        What would the gate decide for this user, on this resource, from this address, OS and browser? The session assumed is a
        sign-in at that time. Nothing is written: no session, no audit entry.
      </p>
      <form method="get" action="/admin/policies/what-if" aria-label="What if">
        <div className="row">
          <div>
            <label htmlFor="user">Username or user id</label>
            <input id="user" name="user" type="text" autoComplete="off" required defaultValue={f.user} />
          </div>
          <div>
            <label htmlFor="resource">Resource</label>
            <select id="resource" name="resource" defaultValue={f.resource || 'portal'}>
              {resources.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="ip">IP address</label>
            <input id="ip" name="ip" type="text" autoComplete="off" defaultValue={f.ip} placeholder="unknown" />
          </div>
        </div>
        <div className="row">
          <div>
            <label htmlFor="os">Operating system</label>
            <select id="os" name="os" defaultValue={f.os || 'windows'}>
              {osFamilies.map((o) => (
                <option key={o} value={o}>
                  {osLabels[o]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="browser">Browser</label>
            <select id="browser" name="browser" defaultValue={f.browser || 'chrome'}>
              {browserFamilies.map((b) => (
                <option key={b} value={b}>
                  {browserLabels[b]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="at">Time (UTC)</label>
            <input id="at" name="at" type="text" autoComplete="off" defaultValue={f.at} placeholder="now, or 2026-11-02T09:00:00Z" />
          </div>
          <div>
            <label htmlFor="secondFactor">Session</label>
            <select id="secondFactor" name="secondFactor" defaultValue={f.secondFactor || 'none'}>
              {secondFactorOptions.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Ask</button>
        </div>
        <p className="hint">An empty address is “unknown”, as when the server cannot vouch for it: deny and require-MFA policies with an IP condition then apply, allow policies do not.</p>
      </form>
      {errors.length > 0 && (
        <p className="error" role="alert">
          {errors.join(' ')}
        </p>
      )}
      {result && (
        <section aria-labelledby="what-if-answer">
          <h2 id="what-if-answer">
            {result.user.username} on {resources.find((r) => r.value === result.resource)?.label ?? result.resource}
          </h2>
          <p data-testid="what-if-decision">
            <strong>{decisionWords(result.decision)}</strong> ({result.decision.rule})
            {result.decision.policy ? `, by the policy “${result.decision.policy.name}”.` : ', by no policy.'}
          </p>
          <p className="hint">
            {result.session.description} At {new Date(result.at).toISOString()}, from {result.client.ip} on {osLabels[result.client.os]} with{' '}
            {browserLabels[result.client.browser]}.
          </p>
          <table>
            <caption>Every policy, criterion by criterion</caption>
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Result</th>
                <th scope="col">Status</th>
                <th scope="col">Resource</th>
                <th scope="col">Users</th>
                <th scope="col">Excluded groups</th>
                <th scope="col">IP in</th>
                <th scope="col">IP not in</th>
                <th scope="col">OS</th>
                <th scope="col">Browser</th>
              </tr>
            </thead>
            <tbody>
              {result.policies.length === 0 ? (
                <tr>
                  <td colSpan={10}>No policies yet.</td>
                </tr>
              ) : (
                result.policies.map((p) => (
                  <tr key={p.id} data-testid="what-if-policy">
                    <th scope="row">
                      <a href={`/admin/policies/${encodeURIComponent(p.id)}`}>{p.name}</a>
                      <p className="hint">{actionLabels[p.action]}</p>
                    </th>
                    <td data-testid="what-if-result">{p.strictest ? 'Applies: the strictest that does' : p.applies ? 'Applies, outranked by a stricter one' : 'Does not apply'}</td>
                    <td>
                      <Criterion c={p.criteria.status} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.resource} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.scope} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.exclusion} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.ipIn} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.ipNotIn} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.os} />
                    </td>
                    <td>
                      <Criterion c={p.criteria.browser} />
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </section>
      )}
    </AdminShell>
  );
}
