/** An RFC 9457 problem+json response, never cached. `rule` names the SPEC rule that refused. */
export function problemResponse(status: number, title: string, rule?: string): Response {
  return new Response(JSON.stringify({ type: 'about:blank', title, status, ...(rule ? { rule } : {}) }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  });
}
