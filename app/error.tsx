'use client';

// R-D10: a plain message; production builds never show the error's details.
export default function ErrorPage() {
  return (
    <main>
      <h1>Temporarily unavailable</h1>
      <p>Something went wrong on our side. Please try again in a few minutes.</p>
    </main>
  );
}
