import { apiRoute } from '../../../../../lib/api/next';

// Thin: the handlers live in lib/api (createApiHandlers), shared with the contract tests.
export const dynamic = 'force-dynamic';

export const POST = apiRoute('POST /policies/what-if');
