// TLS for devices on public networks and for the API: one certificate and key (PEM files named in settings
// `tls.cert` / `tls.key`), served by MQTT over TLS (`mqtt.tlsPort`, 8883) and by HTTPS (`http.tls`). The files
// are read at start and again on SIGHUP (App.reloadTls): new handshakes get the new certificate through
// `server.setSecureContext`, connections already open carry on. A reload that cannot read or parse the files
// keeps the certificate in use and says why — a renewal gone wrong must not take the service down.
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface TlsPaths {
  cert: string;
  key: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the leaf certificate (colon-separated hex, as openssl and Node print it). */
  fingerprint256: string;
  subject: string;
  validTo: string;
}

/** Read and check the pair (the key must match the certificate); throws an Error naming the file at fault. */
export function readTls(paths: TlsPaths): TlsMaterial {
  const read = (what: 'cert' | 'key') => {
    try {
      return readFileSync(paths[what]);
    } catch (err) {
      throw new Error(`tls.${what}: cannot read ${paths[what]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read('cert');
  const key = read('key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`tls.cert: ${paths.cert} is not a PEM certificate (${(err as Error).message})`);
  }
  try {
    // Parses the key and checks that it belongs to the certificate.
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`tls.key: ${paths.key} is not the private key of ${paths.cert} (${(err as Error).message})`);
  }
  return { cert, key, fingerprint256: x509.fingerprint256, subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo };
}

export const secureOptions = (m: TlsMaterial): SecureContextOptions => ({ cert: m.cert, key: m.key });
