// The certificate authorities for https (binary caches, builtin:fetchurl, prefetch-url): Node's own
// roots plus the file named by NODE_EXTRA_CA_CERTS, as Node itself would use them. bin/* start
// node without that variable (Node 20 parses the file at every start, 80 ms for a system bundle,
// though most runs never open a TLS connection) and put it back in process.env; it is read here,
// once, when the first https connection is made.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

let cached: { file: string | undefined; options: { ca?: string[] } } | undefined;

/** TLS options for https requests: `ca` when extra certificates are configured, else none. */
export function httpsCaOptions(): { ca?: string[] } {
  const file = process.env.NODE_EXTRA_CA_CERTS || undefined;
  if (cached !== undefined && cached.file === file) return cached.options;
  let options: { ca?: string[] } = {};
  if (file !== undefined) {
    try {
      options = { ca: [...rootCertificates, readFileSync(file, 'utf8')] };
    } catch (e) {
      // As Node words it when the file cannot be read at start-up.
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
    }
  }
  cached = { file, options };
  return options;
}
