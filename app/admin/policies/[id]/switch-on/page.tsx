import { Suspense } from 'react';
import { notFound, redirect } from 'next/navigation';
import type { Kysely } from 'kysely';
import type { Database } from '../../../../../db';
import { requirePermission } from '../../../../../lib/admin/console-guard';
import { isNotFoundError } from '../../../../../lib/errors/brand';
import { getPolicy } from '../../../../../lib/admin/policies';
import { policyImpact, previewDigest } from '../../../../../lib/admin/policy-impact';
import { systemClock } from '../../../../../lib/clock';
import type { PolicyRecord } from '../../../../../lib/policy';
import { AdminShell } from '../../../_components/shell';
import { switchPolicyAction } from '../../actions';
import { ImpactView } from '../../impact-view';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Switch policy ON' };

type Params = Promise<{ id: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * Issue 18 §5: before a policy is switched ON, who it will deny, force to enroll and
 * challenge. The page streams: its heading and a "Counting users…" status first, the counts
 * and the Confirm button when they are done (Suspense), so a slow count shows progress.
 * Confirm carries the digest of what was counted; switchPolicyAction() applies it only if the
 * policy is still that one.
 */
export default async function SwitchPolicyOnPage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  const { id } = await params;
  const { session, db } = await requirePermission('policies.manage', `/admin/policies/${encodeURIComponent(id)}/switch-on`); // R-D9
  const query = await searchParams;
  let policy: PolicyRecord;
  try {
    policy = await getPolicy(db, id);
  } catch (err) {
    if (isNotFoundError(err)) notFound();
    throw err;
  }
  if (policy.enabled) redirect('/admin/policies');
  const draft: PolicyRecord = { ...policy, enabled: true };
  return (
    <AdminShell title={`Switch ${policy.name} ON`} session={session} current="/admin/policies">
      <p>
        <a href="/admin/policies">Back to policies</a> · <a href={`/admin/policies/${encodeURIComponent(policy.id)}`}>Edit the policy instead</a>
      </p>
      {query.changed === '1' && (
        <p className="error" role="alert">
          The policy changed since its preview, so it was not switched ON. Here is the impact of the policy as it is now.
        </p>
      )}
      <Suspense
        fallback={
          <p role="status" data-testid="impact-progress">
            Counting users…
          </p>
        }
      >
        <ImpactAndConfirm db={db} draft={draft} />
      </Suspense>
    </AdminShell>
  );
}

async function ImpactAndConfirm({ db, draft }: { db: Kysely<Database>; draft: PolicyRecord }) {
  const impact = await policyImpact(db, draft, systemClock);
  return (
    <>
      <ImpactView impact={impact} action={draft.action} />
      <form action={switchPolicyAction} aria-label="Confirm switching ON">
        <input type="hidden" name="policyId" value={draft.id} />
        <input type="hidden" name="enabled" value="on" />
        <input type="hidden" name="previewDigest" value={previewDigest(draft)} />
        <button type="submit">Confirm: switch {draft.name} ON</button> <a href="/admin/policies">Cancel</a>
      </form>
    </>
  );
}
