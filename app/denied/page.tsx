import type { Metadata } from 'next';
import { getDb } from '../../db';
import { formatDateTime } from '../../lib/format';
import { getAccessContext } from '../../lib/gate';
import { denialReference, explainDenial } from '../../lib/gate/denial-explained';
import { SignOutButton } from '../_components/sign-out';

export const metadata: Metadata = { title: 'Access denied' };

export const dynamic = 'force-dynamic';

/**
 * Where the gate sends a decision of "deny" (R-D2). It names the policy and gives the
 * audit entry as a reference, but no rule ids, groups or addresses: what the person needs
 * to ask their administrator, nothing an attacker could tune against. R-D9: it reads the
 * session itself; it grants nothing, so it is open to anyone.
 */
export default async function DeniedPage() {
  const context = await getAccessContext();
  const explanation = await explainDenial((await getDb()).kysely, context);
  return (
    <main id="main">
      <h1>Access denied</h1>
      {explanation.kind === 'denied' ? (
        <p role="alert">
          The access policy <strong>“{explanation.policyName}”</strong> does not allow you to open <strong>{explanation.resource}</strong> from
          here: from this network, device or browser, or with your account’s groups.
        </p>
      ) : explanation.kind === 'no_longer' ? (
        <p role="status">
          You were denied <strong>{explanation.resource}</strong>, but the policies have changed since: go back and try again.
        </p>
      ) : (
        <p role="alert">A conditional access policy does not allow you to sign in to this resource from here.</p>
      )}
      {(explanation.kind === 'denied' || explanation.kind === 'no_longer') && (
        <p className="reference">
          Reference for your administrator: <strong data-testid="denial-reference">{denialReference(explanation.reference)}</strong> (
          {formatDateTime(explanation.reference.at)}).
        </p>
      )}
      <p>If you think this is wrong, contact your administrator{explanation.kind === 'denied' ? ' and give them the reference above' : ''}.</p>
      <div className="way-out">
        {context.session ? (
          <>
            {!(explanation.kind === 'denied' && explanation.resource === 'portal') && <a href="/portal">Go to the User Portal</a>}
            <SignOutButton />
          </>
        ) : (
          <a href="/login">Sign in</a>
        )}
      </div>
    </main>
  );
}
