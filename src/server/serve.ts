// The serve-protocol server behind `tix-store --serve [--write]`: answers every command Nix
// 2.8's `ssh://` client (and the 2.8 build hook) sends, against one Store. Like `nix-store
// --serve`, it has no in-band errors: a failure ends the session with an exception, which the
// CLI prints as `error: …` on stderr before exiting 1. Layouts: distributed-builds.md §5.
import { sortedUniqueUtf8 } from '../formats/byte-order.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import { queryClosure } from '../store/closure.js';
import { StoreError } from '../store/errors.js';
import { recycledReadPool } from '../store/nar-dump-disk.js';
import {
  readAddToStoreNarHeader,
  readBasicDerivation,
  readBuildOptions,
  SERVE_MAGIC_1,
  SERVE_MAGIC_2,
  SERVE_PROTOCOL_VERSION,
  type ServeBuildOptions,
  ServeOp,
  writeBuildResult,
  writeServePathInfo,
} from '../store/serve-protocol.js';
import type { BuildResult, Store } from '../store/store.js';
import { exportPaths, importPaths } from './serve-export.js';

/** How the server builds; the CLI wires this to src/build. */
export interface ServeBuilder {
  buildDerivation(
    drvPath: string,
    drv: BasicDerivation,
    opts: ServeBuildOptions & { onLog: (chunk: Uint8Array) => void; signal: AbortSignal },
  ): Promise<BuildResult>;
  /**
   * Builds `StorePathWithOutputs` strings (`/nix/store/x`, `/nix/store/x.drv!out,dev`); resolves to
   * 0 on success, else Nix's exit status (1, or 100 + failure mask) and the message.
   */
  buildPaths(
    paths: string[],
    opts: ServeBuildOptions & { onLog: (chunk: Uint8Array) => void; signal: AbortSignal },
  ): Promise<{ status: number; message: string }>;
}

export interface ServeServerIo {
  /** The client's bytes, as a pull function. */
  pull: () => Promise<Uint8Array | null | undefined>;
  /** Called once the client hangs up, even while nobody reads; returns an unsubscribe. */
  onEnd?: (f: () => void) => () => void;
  /** Writes to the client; `onWritten` (if given) gets each chunk once the system has taken it. */
  write(chunks: Uint8Array[], onWritten?: (chunk: Uint8Array) => void): Promise<void>;
  /** Build logs (the serve protocol sends them on stderr). */
  log(chunk: Uint8Array): void;
}

export interface ServeServerOptions {
  write: boolean;
  builder?: ServeBuilder;
  /**
   * Fetches paths from this machine's own substituters; called (with --write) for QueryValidPaths
   * with the substitute flag (builders-use-substitutes), before answering. Must not throw for
   * paths it cannot fetch: they are simply not valid.
   */
  substitute?: (paths: string[]) => Promise<void>;
}

/** Serves one session until the client closes its end. */
export async function serveStore(store: Store, io: ServeServerIo, opts: ServeServerOptions): Promise<void> {
  const inp = new WireReader(io.pull, { what: 'serve protocol stream' });
  const out = new WireWriter();
  const flush = () => io.write(out.takeChunks());

  const magic = await inp.u64big().catch(() => undefined);
  if (magic !== BigInt(SERVE_MAGIC_1)) throw new StoreError('REMOTE_PROTOCOL', 'protocol mismatch');
  out.u64(SERVE_MAGIC_2).u64(SERVE_PROTOCOL_VERSION);
  await flush();
  const clientVersion = await inp.u64();

  const requireWrite = (what: 'importing' | 'building') => {
    if (!opts.write) throw new StoreError('UNSUPPORTED', `${what} paths is not allowed`);
  };
  const builder = () => {
    if (!opts.builder) throw new StoreError('UNSUPPORTED', 'this store cannot build');
    return opts.builder;
  };
  /**
   * Aborts a build when the client goes away, as nix-store --serve does; then there is nobody to
   * answer, and the session ends in 2.8's error (exit status 1).
   */
  const whileBuilding = async <T>(f: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const ac = new AbortController();
    const off = io.onEnd?.(() => ac.abort());
    try {
      const r = await f(ac.signal);
      if (ac.signal.aborted) throw new StoreError('INTERRUPTED', 'interrupted by the user');
      return r;
    } finally {
      off?.();
    }
  };

  while (!(await inp.atEnd())) {
    const op = await inp.u64();
    switch (op) {
      case ServeOp.QueryValidPaths: {
        const lock = await inp.bool();
        const substitute = await inp.bool();
        const paths = await inp.strings();
        if (lock && opts.write) for (const p of paths) await store.addTempRoot(p);
        if (substitute && opts.write && opts.substitute) await opts.substitute(paths);
        const valid = await store.queryValidPaths(paths, { substitute: substitute && opts.write });
        out.strings(sortedUniqueUtf8(paths.filter((p) => valid.has(p))));
        break;
      }
      case ServeOp.QueryPathInfos: {
        // A set, as 2.8 reads it: answered in (byte) order, each path once.
        const paths = sortedUniqueUtf8(await inp.strings());
        for (const p of paths) {
          const info = await store.queryPathInfo(p);
          if (!info) continue;
          out.string(p);
          writeServePathInfo(out, info, clientVersion);
        }
        out.string('');
        break;
      }
      case ServeOp.DumpStorePath: {
        const path = await inp.string();
        if (!(await store.isValidPath(path)))
          throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
        // Big files are read into recycled buffers, each given back once written.
        const pool = recycledReadPool();
        const give = (c: Uint8Array) => pool.give(c);
        for await (const chunk of store.narFromPath(path, { pool })) await io.write([chunk], give);
        break;
      }
      case ServeOp.ImportPaths: {
        requireWrite('importing');
        await importPaths(store, inp);
        out.u64(1);
        break;
      }
      case ServeOp.ExportPaths: {
        await inp.u64(); // obsolete "sign" flag
        await exportPaths(store, await inp.strings(), io.write);
        break;
      }
      case ServeOp.BuildPaths: {
        requireWrite('building');
        const paths = await inp.strings();
        const bo = await readBuildOptions(inp, clientVersion);
        const r = await whileBuilding((signal) =>
          builder().buildPaths(paths, { ...bo, onLog: io.log, signal }),
        );
        out.u64(r.status);
        if (r.status !== 0) out.string(r.message);
        break;
      }
      case ServeOp.QueryClosure: {
        const includeOutputs = await inp.bool();
        const paths = await inp.strings();
        out.strings(await queryClosure(store, paths, { includeOutputs }));
        break;
      }
      case ServeOp.BuildDerivation: {
        requireWrite('building');
        const drvPath = await inp.string();
        const drv = await readBasicDerivation(inp, drvPath);
        const bo = await readBuildOptions(inp, clientVersion);
        const r = await whileBuilding((signal) =>
          builder().buildDerivation(drvPath, drv, { ...bo, onLog: io.log, signal }),
        );
        writeBuildResult(out, r, { version: clientVersion, drv, storeDir: store.storeDir });
        break;
      }
      case ServeOp.AddToStoreNar: {
        requireWrite('importing');
        const info = await readAddToStoreNarHeader(inp);
        if (info.narSize === 0)
          throw new StoreError('BAD_INFO', 'narInfo is too old and missing the narSize field');
        let left = info.narSize;
        const nar = (async function* () {
          for await (const c of inp.stream(left)) {
            left -= c.length;
            yield c;
          }
        })();
        await store.addToStoreNar(info, nar, { checkSigs: false });
        // The store may skip an already-valid path without reading its NAR.
        for await (const c of inp.stream(left)) void c;
        out.u64(1);
        break;
      }
      default:
        throw new StoreError('REMOTE_PROTOCOL', `unknown serve command ${op}`);
    }
    await flush();
  }
}
