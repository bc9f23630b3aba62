import { readBodyUpTo } from '../http/bounded-body';
import { HttpProblem } from './problem';

/** JSON request bodies with a size limit (413) and a media type check (415). */

/** Default limit: ample for any single object the API takes. */
export const defaultMaxBodyBytes = 64 * 1024;
/** For lists of up to 10,000 user ids (bulk Require MFA, group members). */
export const bulkMaxBodyBytes = 1024 * 1024;

function isJsonMediaType(contentType: string): boolean {
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (!type || !(type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type))) return false;
  // JSON is UTF-8 (RFC 8259); a declared other charset is refused rather than misread.
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/**
 * Reads the body as JSON. An absent body gives `undefined` (the schema decides whether that
 * is allowed); a body over `maxBytes` is refused before it is read in full, whether or not
 * Content-Length says so.
 */
export async function readJsonBody(request: Request, maxBytes = defaultMaxBodyBytes): Promise<unknown> {
  const tooLarge = () => new HttpProblem(413, 'payload-too-large', `The request body is limited to ${maxBytes} bytes.`);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge();
  if (request.body === null || declared === '0') {
    if (request.body !== null) await request.body.cancel().catch(() => undefined);
    return undefined;
  }
  const contentType = request.headers.get('content-type');
  if (contentType === null || !isJsonMediaType(contentType)) {
    await request.body.cancel().catch(() => undefined);
    throw new HttpProblem(415, 'unsupported-media-type', 'Send the body as application/json (UTF-8).', {}, { 'accept-post': 'application/json' });
  }
  const body = await readBodyUpTo(request, maxBytes);
  if (body === null) throw tooLarge();
  if (body.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new HttpProblem(400, 'malformed-json', 'The request body is not valid UTF-8.');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'malformed-json', 'The request body is not valid JSON.');
  }
}
