'use client';

import { useEffect, useState } from 'react';

/**
 * A moment in the reader's own time zone. The server cannot know it, so the server's text
 * (UTC, labelled) is rendered first and stays when JavaScript does not run; in the browser
 * Intl formats it with the browser's zone and locale after hydration.
 */
export function LocalDateTime({ ms, fallback }: { ms: number; fallback: string }) {
  const [text, setText] = useState(fallback);
  useEffect(() => {
    setText(
      new Intl.DateTimeFormat(undefined, {
        weekday: 'short',
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      }).format(new Date(ms)),
    );
  }, [ms]);
  return <time dateTime={new Date(ms).toISOString()}>{text}</time>;
}
