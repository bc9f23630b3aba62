'use client';

import { useEffect, useState } from 'react';
import styles from './recovery-codes.module.css';

/**
 * Copy and print need JavaScript, so they appear only once it runs (progressive
 * enhancement): without it the page still offers the download link and the codes as text.
 */
function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

export function CopyCodesButton({ text }: { text: string }) {
  const hydrated = useHydrated();
  const [status, setStatus] = useState('');
  if (!hydrated || typeof navigator === 'undefined' || !navigator.clipboard) return null;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setStatus('Copied to the clipboard.');
    } catch {
      setStatus('Your browser did not allow copying. Select the codes and copy them, or download them.');
    }
  };
  return (
    <>
      <button type="button" className={`secondary ${styles.tool}`} onClick={copy}>
        Copy codes
      </button>
      <span role="status" className={styles.status}>
        {status}
      </span>
    </>
  );
}

export function PrintButton() {
  const hydrated = useHydrated();
  if (!hydrated) return null;
  return (
    <button type="button" className={`secondary ${styles.tool}`} onClick={() => window.print()}>
      Print
    </button>
  );
}
