// `builtin:fetchurl`, the builder of Nix's <nix/fetchurl.nix> (nixpkgs' bootstrap tarballs use
// it): downloads the derivation's `url` into its output — the file itself, or, with `unpack` =
// "1", a NAR (xz-compressed when the URL ends in ".xz") unpacked into a tree; `executable` = "1"
// makes the file executable. As in Nix it runs inside the build process, not in a sandbox; the
// output is a fixed output, so the usual registration checks its hash. URLs: file://, http://,
// https:// (TLS is not verified, as Nix does not: the hash is the check). For a flat output the
// `hashed-mirrors` are tried first, at `<mirror>/<algo>/<base16 hash>`, as Nix does.
import { chmodSync, createReadStream, createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { BasicDerivation } from '../formats/derivation.js';
import { isHashAlgo, parseHash, printHash } from '../formats/hash.js';
import { parseNar } from '../formats/nar-parse.js';
import { decompress } from '../store/compression.js';
import { diskNarSink } from '../store/nar-restore-disk.js';
import { BuildError } from './errors.js';

/**
 * The bytes at `url` (file://, http://, https://), streamed; failures worded as Nix 2.8's curl.
 * https certificates are checked unless `verifyTls` is false.
 */
export async function download(
  url: string,
  opts: { verifyTls?: boolean } = {},
): Promise<AsyncIterable<Uint8Array>> {
  const fail = (detail: string) => new BuildError('FETCH', `unable to download '${url}': ${detail}`);
  if (url.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (e) {
      throw fail((e as Error).message);
    }
    const stream = createReadStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          fail(e.code === 'ENOENT' || e.code === 'EACCES' ? "Couldn't read a file:// file (37)" : e.message),
        ),
      );
    });
    return stream;
  }
  if (url.startsWith('http://') || url.startsWith('https://')) {
    let res: IncomingMessage;
    try {
      // Loaded here: node:http, node:https and node:tls would otherwise load with every builder.
      const { httpGet } = await import('../store/http-get.js');
      res = await httpGet(url, { verifyTls: opts.verifyTls });
    } catch (e) {
      throw fail((e as Error).message);
    }
    // As Nix 2.8's curl transfer words it, with the status line's reason.
    if ((res.statusCode ?? 0) >= 300) {
      res.resume();
      throw fail(`HTTP error ${res.statusCode} ('${res.statusMessage ?? ''}')`);
    }
    return res;
  }
  throw fail('unsupported URL scheme');
}

/** Runs builtin:fetchurl of `drv`, writing its output at `outPath` (a path on disk). */
/** The mirror URLs of a flat fixed output, or none. */
function mirrorUrls(drv: BasicDerivation, mirrors: string[]): string[] {
  if (mirrors.length === 0 || drv.env.get('outputHashMode') !== 'flat') return [];
  const algo = drv.env.get('outputHashAlgo');
  let hash: ReturnType<typeof parseHash>;
  try {
    hash = parseHash(drv.env.get('outputHash') ?? '', algo && isHashAlgo(algo) ? { algo } : {});
  } catch {
    return [];
  }
  const tail = `${hash.algo}/${printHash(hash, 'base16')}`;
  return mirrors.map((m) => (m.endsWith('/') ? m : `${m}/`) + tail);
}

export async function builtinFetchurl(
  drv: BasicDerivation,
  outPath: string,
  log: (line: string) => void,
  opts: { hashedMirrors?: string[] } = {},
): Promise<void> {
  const url = drv.env.get('url');
  if (!url) throw new BuildError('BAD_DRV', "attribute 'url' missing");
  let body: AsyncIterable<Uint8Array> | undefined;
  for (const mirror of mirrorUrls(drv, opts.hashedMirrors ?? [])) {
    try {
      body = await download(mirror, { verifyTls: false });
      log(`downloading '${mirror}'...`);
      break;
    } catch {
      // Not on this mirror: the next one, then the URL itself.
    }
  }
  if (!body) {
    log(`downloading '${url}'...`);
    body = await download(url, { verifyTls: false });
  }
  if (drv.env.get('unpack') === '1') {
    const nar = decompress(url.endsWith('.xz') ? 'xz' : 'none', body, url);
    const sink = diskNarSink(outPath);
    try {
      await parseNar(nar, sink);
      sink.finish();
    } catch (e) {
      sink.abort();
      throw new BuildError('FETCH', `cannot unpack '${url}': ${(e as Error).message}`);
    }
  } else {
    await pipeline(Readable.from(body), createWriteStream(outPath, { mode: 0o644 }));
  }
  if (drv.env.get('executable') === '1') chmodSync(outPath, 0o755);
}
