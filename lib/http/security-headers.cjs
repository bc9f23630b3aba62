// The response headers every answer of the portal carries. One list for both ways a
// request is served: Next.js (next.config.js headers()) and the routes scripts/server.mjs
// serves itself (lib/http/direct-routes.ts). CommonJS so next.config.js can require it.
module.exports = Object.freeze([
  Object.freeze({ key: 'X-Frame-Options', value: 'DENY' }),
  Object.freeze({ key: 'X-Content-Type-Options', value: 'nosniff' }),
  Object.freeze({ key: 'Referrer-Policy', value: 'same-origin' }),
  Object.freeze({ key: 'Cache-Control', value: 'no-store' }),
]);
