export const dynamic = 'force-dynamic';

export default function DeniedPage() {
  return (
    <main>
      <h1>Access denied</h1>
      <p role="alert">A conditional access policy does not allow you to sign in to this resource from here.</p>
      <p>
        If you think this is wrong, contact your administrator. <a href="/login">Sign in as someone else</a>.
      </p>
    </main>
  );
}
