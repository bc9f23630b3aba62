import { brandError, isConflictError, isHttpProblem, isNotFoundError, isValidationError } from '../errors/brand';
import { log } from '../log';

/**
 * Errors as `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, and
 * for invalid input `errors: { field: [messages] }`.
 *
 * Status choices: every refusal of client input is 400 (malformed JSON, a wrong type, a
 * value out of range, a rule such as R-A2, a bad cursor), so clients handle one code for
 * "fix the request"; 422 is not used. Unknown ids are 404, also for ids inside a bulk body
 * (listed in `unknownIds`; nothing changes). A duplicate name is 409.
 */

export const problemContentType = 'application/problem+json';
const typePrefix = 'urn:portcullis:problem:';

export type ProblemSlug =
  | 'validation'
  | 'malformed-json'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'unavailable'
  | 'internal';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: Record<string, string[]>;
  [extension: string]: unknown;
}

const titles: Record<ProblemSlug, string> = {
  validation: 'The request has invalid fields.',
  'malformed-json': 'The request body is not valid JSON.',
  unauthorized: 'An API key is required.',
  forbidden: 'This API key may not do that.',
  'not-found': 'Not found.',
  conflict: 'The request conflicts with the current state.',
  'payload-too-large': 'The request body is too large.',
  'unsupported-media-type': 'The request body must be JSON.',
  unavailable: 'The service is temporarily unavailable.',
  internal: 'Something went wrong on our side.',
};

/** A refusal with its status, thrown by the plumbing and turned into a response at the edge. */
export class HttpProblem extends Error {
  constructor(
    public readonly status: number,
    public readonly slug: ProblemSlug,
    detail?: string,
    public readonly extensions: Record<string, unknown> = {},
    public readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? titles[slug]);
    brandError(this, 'HttpProblem');
  }
}

export const problemType = (slug: ProblemSlug) => `${typePrefix}${slug}`;

export function problemResponse(
  status: number,
  slug: ProblemSlug,
  detail?: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const body: ProblemBody = { type: problemType(slug), title: titles[slug], status, ...(detail ? { detail } : {}), ...extensions };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': problemContentType, 'cache-control': 'no-store', ...headers },
  });
}

const maxListedIds = 100;

/** Maps service errors to problems; anything unexpected is a 500 that shows nothing inside. */
export function responseForError(err: unknown): Response {
  if (isHttpProblem(err)) return problemResponse(err.status, err.slug, err.message, err.extensions, err.headers);
  if (isValidationError(err)) {
    return problemResponse(400, 'validation', err.message, { errors: err.fieldErrors });
  }
  if (isNotFoundError(err)) {
    const ids = err.ids.slice(0, maxListedIds);
    const detail =
      err.ids.length > 1 ? `${err.ids.length} ${err.what} ids are unknown; nothing was changed.` : `No ${err.what} with that id.`;
    return problemResponse(404, 'not-found', detail, {
      resource: err.what,
      unknownIds: ids,
      ...(err.ids.length > ids.length ? { unknownIdsTruncated: true } : {}),
    });
  }
  if (isConflictError(err)) {
    return problemResponse(409, 'conflict', err.message, err.field ? { errors: { [err.field]: [err.message] } } : {});
  }
  log.error({ err }, 'api: unexpected error');
  return problemResponse(500, 'internal');
}
