import type { Metadata } from 'next';
import { requirePageAccess } from '../../../lib/gate';
import { recordDemoNote } from './actions';

export const metadata: Metadata = { title: 'Demo App' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** The example app: its own resource ("demo"), so policies can target it apart from the portal. */
export default async function DemoAppPage({ searchParams }: { searchParams: SearchParams }) {
  const { session, decision } = await requirePageAccess('demo', '/apps/demo');
  const params = await searchParams;
  return (
    <main id="main">
      <h1>Demo App</h1>
      <p>
        Hello {session.username}. You reached the demo app ({decision.rule}
        {decision.kind === 'allow' && decision.policy ? `, policy "${decision.policy.name}"` : ''}).
      </p>
      {params.saved && <p className="notice">Note saved.</p>}
      <form action={recordDemoNote}>
        <label htmlFor="note">Note</label>
        <input id="note" name="note" maxLength={200} />
        <button type="submit">Save note</button>
      </form>
    </main>
  );
}
