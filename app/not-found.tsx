import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Page not found' };

/** Any address the portal does not serve: ours, with a way home, never Next.js's bare 404. */
export default function NotFound() {
  return (
    <main id="main">
      <h1>Page not found</h1>
      <p>There is no page at this address. Check the address, or start again from the User Portal.</p>
      <p className="way-out">
        <a href="/portal">Go to the User Portal</a>
      </p>
    </main>
  );
}
