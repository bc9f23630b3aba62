'use client';

import { useRef } from 'react';
import type { FormState } from '../_lib/form-state';

/**
 * A key that changes with every answer of the form's action. Keyed on it, the form mounts
 * afresh with each answer, so every field starts from its current default: the values as
 * typed after a refusal, the saved ones after a success. (React applies a changed
 * defaultValue to inputs but not to <select>, and resets a submitted form to its defaults.)
 */
export function useFormKey(state: FormState): number {
  const seen = useRef<{ state: FormState; key: number }>({ state, key: 0 });
  if (seen.current.state !== state) seen.current = { state, key: seen.current.key + 1 };
  return seen.current.key;
}
