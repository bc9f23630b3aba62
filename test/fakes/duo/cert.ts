import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A self-signed certificate for 127.0.0.1 (and localhost), made now with the `openssl`
 * CLI: an EC P-256 key, valid for two days. Nothing is checked in; every test run has its
 * own key. Returns the PEMs and the directory they were written to (the CA file is what
 * a test hands to the Duo client as the one extra certificate to trust).
 */
export interface TestCertificate {
  key: string;
  cert: string;
  dir: string;
  certFile: string;
}

export function makeSelfSignedCertificate(commonName = 'Portcullis test Duo'): TestCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-fake-duo-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509',
        '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-keyout', keyFile, '-out', certFile,
        '-days', '2',
        '-subj', `/CN=${commonName}`,
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    throw new Error(`could not make a test certificate with openssl (is it installed?): ${(err as Error).message}`);
  }
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), dir, certFile };
}
