import type { ImpactGroup, PolicyImpact } from '../../../lib/admin/policy-impact';

/**
 * Issue 18 §5: the impact preview as a table, for the switch-ON page (server) and the policy
 * form's preview step (client). Plain markup, no hooks: it renders in either.
 */

const number = (n: number) => n.toLocaleString('en-US');

function Row({ id, label, group }: { id: string; label: string; group: ImpactGroup }) {
  const more = group.count - group.sample.length;
  return (
    <tr data-testid={`impact-${id}`}>
      <th scope="row">{label}</th>
      <td data-testid="impact-count">{number(group.count)}</td>
      <td data-testid="impact-sample">
        {group.sample.length === 0 ? '—' : group.sample.map((u) => u.username).join(', ')}
        {more > 0 && <span className="hint"> and {number(more)} more</span>}
      </td>
    </tr>
  );
}

export function ImpactView({ impact, action }: { impact: PolicyImpact; action: string }) {
  return (
    <section aria-label="Impact preview" data-testid="policy-impact">
      <h2>Who it will affect</h2>
      <p data-testid="impact-in-scope">
        {number(impact.inScope)} active user{impact.inScope === 1 ? ' is' : 's are'} in its scope.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">At their next sign-in</th>
            <th scope="col">Users</th>
            <th scope="col">First by username</th>
          </tr>
        </thead>
        <tbody>
          {action === 'deny' && <Row id="deny" label="Denied" group={impact.deny} />}
          {action === 'require_mfa' && (
            <>
              <Row id="deny" label="Denied" group={impact.deny} />
              <Row id="enroll-has-factor" label="Forced to enroll: has a factor, none that this policy accepts" group={impact.enroll.hasFactor} />
              <Row id="enroll-has-none" label="Forced to enroll: has no factor" group={impact.enroll.hasNone} />
              <Row id="challenge" label="Challenged for a second factor" group={impact.challenge} />
            </>
          )}
          {action === 'allow' && <Row id="allow" label="Allowed without a second factor by this policy" group={impact.allow} />}
        </tbody>
      </table>
      <ul className="hint">
        {impact.assumptions.map((a) => (
          <li key={a}>{a}</li>
        ))}
      </ul>
    </section>
  );
}
