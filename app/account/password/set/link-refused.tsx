/** A link that can't be used: what happened and what to do. */
export function LinkRefused({ title, body }: { title: string; body: string }) {
  return (
    <>
      <h1>{title}</h1>
      <p role="alert">{body}</p>
      <p>
        <a href="/login/forgot">Ask for a new password reset link</a> · <a href="/login">Sign in</a>
      </p>
    </>
  );
}
