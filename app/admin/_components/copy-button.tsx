'use client';

import { useState } from 'react';

/**
 * Copies `value` to the clipboard and says so in a live region. Without JavaScript (or a
 * clipboard) the value beside it can still be selected and copied by hand.
 */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [said, setSaid] = useState('');
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setSaid('Copied.');
    } catch {
      setSaid('Could not copy: select the text and copy it by hand.');
    }
  }
  return (
    <span className="copy">
      <button type="button" className="secondary" onClick={copy}>
        {label}
      </button>{' '}
      <span role="status">{said}</span>
    </span>
  );
}
