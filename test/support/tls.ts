import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

/** A private certificate authority and a server certificate it signed, for 127.0.0.1 and localhost. */
export interface TlsFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate (PEM), what a client trusts. */
  ca: string;
  /** Removes the files. */
  remove(): void;
}

/** Makes a CA and a server certificate with `openssl` (Debian's, always installed with redis-server's libssl). */
export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'brook-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Brook test CA', '-keyout', file('ca.key'), '-out', file('ca.crt'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.crt'));
  return {
    dir,
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    ca: readFileSync(file('ca.crt'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * `redis-server` arguments that add a TLS port next to the plain one (which the harness keeps using
 * to start, inspect and fault the server). With `replication`, replicas connect over TLS and
 * announce their TLS port, so sentinels hand clients TLS addresses.
 */
export async function tlsArgs(files: TlsFiles, options: { replication?: boolean } = {}): Promise<{ tlsPort: number; args: string[] }> {
  const tlsPort = await freePort();
  return {
    tlsPort,
    args: [
      '--tls-port', String(tlsPort),
      '--tls-cert-file', files.certFile,
      '--tls-key-file', files.keyFile,
      '--tls-ca-cert-file', files.caFile,
      '--tls-auth-clients', 'optional',
      ...(options.replication ? ['--tls-replication', 'yes'] : []),
    ],
  };
}
