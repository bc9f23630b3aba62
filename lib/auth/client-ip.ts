/**
 * R-I1: the client address is the socket's peer, or what trusted proxies said. Next.js does
 * not expose the socket to pages or middleware, so the server entry (scripts/server.mjs)
 * computes the address and passes it in a header together with a per-process token. A
 * header without the right token (a client sending its own, or a server started without
 * our entry) is ignored and the address is "unknown".
 */
export const clientIpHeader = 'x-portcullis-client-ip';
export const entryTokenHeader = 'x-portcullis-entry';
export const unknownClientIp = 'unknown';

interface HeaderReader {
  get(name: string): string | null;
}

export function clientIpFromHeaders(headers: HeaderReader, env: NodeJS.ProcessEnv = process.env): string {
  const expected = env.PORTCULLIS_ENTRY_TOKEN;
  if (!expected) return unknownClientIp;
  const token = headers.get(entryTokenHeader);
  if (token !== expected) return unknownClientIp;
  const ip = headers.get(clientIpHeader);
  return ip && ip.length <= 64 ? ip : unknownClientIp;
}
