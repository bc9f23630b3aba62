'use client';

// R-D10: a plain message; production builds never show the error's details.
export default function ErrorPage() {
  return (
    <main id="main">
      {/* A client error boundary cannot export metadata; React puts this <title> in the head. */}
      <title>Something went wrong · Portcullis</title>
      <h1>Something went wrong</h1>
      <p>Something went wrong on our side. Please try again in a few minutes.</p>
      <p className="way-out">
        <a href="/portal">Go to the User Portal</a>
      </p>
    </main>
  );
}
