import { apiRoute } from '../../../../../../lib/api/next';

// Thin: the handlers live in lib/api (createApiHandlers), shared with the contract tests.
export const dynamic = 'force-dynamic';

export const PUT = apiRoute('PUT /users/{id}/role');
