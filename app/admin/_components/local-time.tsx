'use client';

import { useEffect, useState } from 'react';
import { formatDateTime } from '../../../lib/format';

const localFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

/**
 * A moment in the viewer's own time zone. The server renders it in UTC (labelled), which
 * stays without JavaScript; in the browser it is rewritten in local time.
 */
export function LocalTime({ at }: { at: number }) {
  const [text, setText] = useState(() => formatDateTime(at));
  useEffect(() => {
    setText(localFormat.format(new Date(at)));
  }, [at]);
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)}>
      {text}
    </time>
  );
}
