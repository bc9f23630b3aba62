import type { PolicyImpact } from '../../../lib/admin/policy-impact';
import type { FormState } from '../_lib/form-state';

/**
 * The policy form's state with the impact preview step (issue 18 §5). Types only: the client
 * form imports this file too.
 */
export interface PolicyFormState extends FormState {
  preview?: {
    impact: PolicyImpact;
    /** previewDigest() of the draft counted: Confirm sends it back, and only that draft is applied. */
    digest: string;
    action: string;
    /** Confirm was pressed, but the form no longer held the previewed draft. */
    changedSincePreview: boolean;
  } | null;
}
