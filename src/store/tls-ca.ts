// The certificate authorities for https (binary caches, builtin:fetchurl, prefetch-url), chosen as
// Nix 2.8 chooses curl's CA file: $NIX_SSL_CERT_FILE, else $SSL_CERT_FILE, else the first of
// /etc/ssl/certs/ca-certificates.crt and the default profile's bundle that exists, else Node's own
// roots; plus the file named by NODE_EXTRA_CA_CERTS, which Node itself would add. bin/* start node
// without that variable (Node 20 parses the file at every start, 80 ms for a system bundle, though
// most runs never open a TLS connection) and put it back in process.env. Everything is read once,
// when the first https connection is made, into one TLS context.
import { existsSync, readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

export const DEFAULT_CA_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/nix/var/nix/profiles/default/etc/ssl/certs/ca-bundle.crt',
];

/** The CA file Nix 2.8 would give curl, or undefined (then Node's built-in roots). */
export function caFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.NIX_SSL_CERT_FILE || env.SSL_CERT_FILE;
  if (named) return named;
  return DEFAULT_CA_FILES.find((f) => existsSync(f));
}

let cached: { key: string; options: { secureContext?: SecureContext } } | undefined;

/** TLS options for https requests: one secure context with the CAs above. */
export function httpsCaOptions(): { secureContext?: SecureContext } {
  const file = caFile();
  const extra = process.env.NODE_EXTRA_CA_CERTS || undefined;
  const key = JSON.stringify([file, extra]);
  if (cached !== undefined && cached.key === key) return cached.options;
  let ca: string[] = [...rootCertificates];
  if (file !== undefined) {
    try {
      ca = [readFileSync(file, 'utf8')];
    } catch (e) {
      process.emitWarning(`cannot read the CA file '${file}': ${(e as Error).message}; using Node's roots`);
    }
  }
  if (extra !== undefined) {
    try {
      ca.push(readFileSync(extra, 'utf8'));
    } catch (e) {
      // As Node words it when the file cannot be read at start-up.
      process.emitWarning(`Ignoring extra certs from \`${extra}\`, load failed: ${(e as Error).message}`);
    }
  }
  cached = { key, options: { secureContext: createSecureContext({ ca }) } };
  return cached.options;
}
