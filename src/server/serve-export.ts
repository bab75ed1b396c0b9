// The `nix-store --export` stream used by serve ImportPaths (4) and ExportPaths (5): per path
// `1`, NAR, "NIXE", path, references, deriver, `0` (no legacy signature); `0` after the last.

import { referencesFirst } from '../distribute/copy.js';
import { type Hash, HashSink, printHash } from '../formats/hash.js';
import { type WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from '../store/errors.js';
import { EXPORT_MAGIC } from '../store/serve-protocol.js';
import type { Store, ValidPathInfo } from '../store/store.js';

/**
 * Reads an export stream and adds each path (signature checks off unless `opts.checkSigs`, as
 * nix-store and serve do); `onPath` hears of each path once it is added. A local store unpacks
 * each NAR as it arrives (Store.addNarThenInfo); other stores are given it buffered.
 */
export async function importPaths(
  store: Store,
  inp: WireReader,
  onPath: (path: string) => void = () => {},
  opts: {
    /** Require signatures (a daemon's untrusted client); nix-store and serve do not. */
    checkSigs?: boolean;
    /** Rewrites an error about adding `path` (a daemon words a missing signature as Nix does). */
    explain?: (e: unknown, path: string) => unknown;
  } = {},
): Promise<string[]> {
  const checkSigs = opts.checkSigs ?? false;
  const imported: string[] = [];
  for (;;) {
    const at = inp.position;
    const more = await inp.u64();
    if (more === 0) return imported;
    if (more !== 1) {
      throw new StoreError(
        'BAD_INFO',
        `input doesn't look like something created by 'nix-store --export' at byte ${at}`,
      );
    }
    let current = '';
    /** The path and references that follow the NAR; its hash and size are the NAR's own. */
    const readInfo = async (nar: { narSize: number; narHash: Hash }): Promise<ValidPathInfo> => {
      if ((await inp.u64()) !== EXPORT_MAGIC) {
        throw new StoreError('BAD_INFO', 'Nix archive cannot be imported; wrong format');
      }
      const path = await inp.string();
      current = path;
      const references = await inp.strings();
      const deriver = await inp.string();
      if ((await inp.u64()) !== 0) await inp.string(); // a legacy signature: ignored
      return {
        path,
        deriver: deriver || undefined,
        narHash: printHash(nar.narHash, 'base16', { prefix: true }),
        narSize: nar.narSize,
        references,
        registrationTime: Math.floor(Date.now() / 1000),
        ultimate: false,
        sigs: [],
      };
    };
    let path: string;
    try {
      if (store.addNarThenInfo) {
        // Unpacked as it arrives (a local store): memory stays bounded whatever the NAR's size.
        path = await store.addNarThenInfo(
          async (sink) => {
            const h = new HashSink('sha256');
            const { narSize } = await inp.copyNar((b) => h.update(b), { sink });
            return { narSize, narHash: h.finish() };
          },
          readInfo,
          { checkSigs },
        );
      } else {
        // The NAR has no length prefix: parse it to find its end, keeping a copy and its hash.
        const chunks: Uint8Array[] = [];
        const sink = new HashSink('sha256');
        const { narSize } = await inp.copyNar((b) => {
          chunks.push(b.slice());
          sink.update(b);
        });
        const info = await readInfo({ narSize, narHash: sink.finish() });
        path = info.path;
        await store.addToStoreNar(info, fromArray(chunks), { checkSigs });
      }
    } catch (e) {
      throw current && opts.explain ? opts.explain(e, current) : e;
    }
    imported.push(path);
    onPath(path);
  }
}

/** Writes the export stream of `paths` (references first within the set). */
export async function exportPaths(
  store: Store,
  paths: string[],
  write: (chunks: Uint8Array[]) => Promise<void>,
): Promise<void> {
  const infos = new Map<string, ValidPathInfo>();
  for (const p of paths) {
    const info = await store.queryPathInfo(p);
    if (!info) throw new StoreError('INVALID_PATH', `path '${p}' is not valid`);
    infos.set(p, info);
  }
  const out = new WireWriter();
  for (const p of referencesFirst(infos)) {
    const info = infos.get(p)!;
    await write(out.u64(1).takeChunks());
    for await (const chunk of store.narFromPath(p)) await write([chunk]);
    writeExportTrailer(out, info);
    await write(out.takeChunks());
  }
  await write(out.u64(0).takeChunks());
}

/** What follows a path's NAR in the export format: "NIXE", path, references, deriver, no signature. */
export function writeExportTrailer(
  out: WireWriter,
  info: Pick<ValidPathInfo, 'path' | 'references' | 'deriver'>,
): WireWriter {
  return out
    .u64(EXPORT_MAGIC)
    .string(info.path)
    .strings(info.references)
    .string(info.deriver ?? '')
    .u64(0);
}

async function* fromArray(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}
