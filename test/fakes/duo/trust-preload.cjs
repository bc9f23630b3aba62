// For end-to-end runs only: `NODE_OPTIONS=--require <this file>` in the portal's server
// process (see test/e2e/duo.spec.ts). The Duo client pins Duo's certificate authorities
// (an explicit `ca` on its HTTPS agent); this adds the fake Duo's self-signed certificate
// to that list for connections to 127.0.0.1, where the fake listens. Hostname and chain
// checks stay on. The production code path is unchanged: nothing in the app loads or
// knows about this file, and without it the fake is refused.
'use strict';
const fs = require('node:fs');
const tls = require('node:tls');

const file = process.env.PORTCULLIS_TEST_DUO_CA_FILE;
if (file) {
  const extra = fs.readFileSync(file, 'utf8');
  const connect = tls.connect;
  tls.connect = function connectTrustingFakeDuo(...args) {
    const options = args[0];
    if (options && typeof options === 'object' && options.ca && (options.host === '127.0.0.1' || options.servername === '127.0.0.1')) {
      const ca = Array.isArray(options.ca) ? options.ca : [options.ca];
      args[0] = { ...options, ca: [...ca, extra] };
    }
    return connect.apply(this, args);
  };
}
