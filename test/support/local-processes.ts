import fs from 'node:fs';
import net from 'node:net';

/**
 * Helpers for starting local servers, shared by the end-to-end harness
 * (test/e2e/support/server.ts) and the benchmarks (bench/support/app.ts).
 */

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The last lines of a server's log, for an error message; '(no log)' when it can't be read. */
export function tailOfLog(file: string, lines = 60): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
