// Worker-protocol uploads: AddToStore (content-addressed dumps), AddTextToStore, AddToStoreNar,
// AddMultipleToStore, ImportPaths/ExportPath (old clients), AddSignatures, AddBuildLog,
// RegisterDrvOutput. Untrusted clients always have signatures checked and `ultimate` cleared.
import { writeFileSync } from 'node:fs';
import { narTreeSink } from '../formats/nar.js';
import { parseNar } from '../formats/nar-parse.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from '../store/errors.js';
import type { ValidPathInfo } from '../store/store.js';
import { assertStorePath } from '../store/store-paths.js';
import {
  readStorePath,
  readStorePaths,
  readValidPathInfo,
  STDERR,
  WorkerOp,
  writeValidPathInfo,
} from '../store/worker-protocol.js';
import { importPaths, writeExportTrailer } from './serve-export.js';
import { addToStoreFromDump, parseCaMethod } from './worker-add-ca.js';
import { need, type WorkerConn } from './worker-context.js';
import { FramedSource, tunnelSource } from './worker-sources.js';

type Op = (c: WorkerConn) => Promise<void>;

/** Nix 2.8's wording of a refused unsigned path. */
export function explainSignatureError(e: unknown, path: string): unknown {
  if (e instanceof StoreError && e.code === 'SIGNATURE') {
    return new StoreError('SIGNATURE', `cannot add path '${path}' because it lacks a valid signature`, {
      cause: e,
    });
  }
  return e;
}

async function addOne(
  c: WorkerConn,
  info: ValidPathInfo,
  nar: AsyncIterable<Uint8Array>,
  repair: boolean,
  dontCheckSigs: boolean,
) {
  const checkSigs = !(c.trusted && dontCheckSigs);
  try {
    await c.store.addToStoreNar(info, nar, { repair, checkSigs });
  } catch (e) {
    throw explainSignatureError(e, info.path);
  }
}

/** Runs `f` over the request's framed payload, then reads whatever it left, keeping the stream in step. */
async function withFramed<T>(c: WorkerConn, f: (src: FramedSource) => Promise<T>): Promise<T> {
  const src = new FramedSource(c.inp);
  let ok = false;
  try {
    const r = await f(src);
    ok = true;
    return r;
  } finally {
    if (ok) await src.drain();
    else await src.drain().catch(() => {});
  }
}

async function collect(nar: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const b of nar) parts.push(b.slice());
  return Buffer.concat(parts);
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

export const addOps: Record<number, Op> = {
  [WorkerOp.AddToStore]: async (c) => {
    const dir = c.store.storeDir;
    if (c.minor >= 25) {
      const name = await c.inp.string(4096);
      const cam = parseCaMethod(await c.inp.string(64));
      const references = await readStorePaths(c.inp, dir);
      const repair = await c.inp.bool();
      c.logger.startWork();
      const path = await withFramed(c, async (src) => {
        if (repair && !c.trusted)
          throw new StoreError(
            'UNTRUSTED',
            "repairing is not allowed because you are not in 'trusted-users'",
          );
        if (cam.method === 'text') return c.store.addTextToStore(name, await src.bytes(), references);
        const opts = { name, method: cam.method, algo: cam.algo, references, repair };
        // Streamed where the store can (a local one); else held in memory while it is hashed.
        if (c.store.addToStoreFromDump) return c.store.addToStoreFromDump(src, opts);
        return addToStoreFromDump(c.store, await src.bytes(), opts);
      });
      const info = await c.store.queryPathInfo(path);
      if (!info) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
      c.logger.stopWork();
      writeValidPathInfo(c.reply, info, c.minor, { keyed: true });
      return;
    }
    // Before 1.25: name, fixed, recursive, hash algorithm, then the NAR itself.
    const name = await c.inp.string(4096);
    const fixed = await c.inp.bool();
    const recursiveFlag = await c.inp.u64();
    let algo = await c.inp.string(64);
    if (recursiveFlag > 1)
      throw new StoreError('BAD_INFO', `unsupported FileIngestionMethod with value of ${recursiveFlag}`);
    let recursive = recursiveFlag === 1;
    if (!fixed) {
      algo = 'sha256';
      recursive = true;
    }
    const nar = await collect(c.inp.narStream());
    c.logger.startWork();
    let dump = nar;
    if (!recursive) {
      const sink = narTreeSink();
      await parseNar([nar], sink);
      const tree = sink.root();
      if (tree.type !== 'regular') throw new StoreError('BAD_INFO', 'regular file expected');
      dump = typeof tree.contents === 'string' ? Buffer.from(tree.contents) : tree.contents;
    }
    const cam = parseCaMethod(`fixed:${algo}`);
    if (cam.method === 'text') throw new StoreError('BAD_INFO', `unknown hash algorithm '${algo}'`);
    const path = await addToStoreFromDump(c.store, dump, {
      name,
      method: recursive ? 'recursive' : 'flat',
      algo: cam.algo,
      references: [],
      repair: false,
    });
    c.logger.stopWork();
    c.reply.string(path);
  },

  [WorkerOp.AddTextToStore]: async (c) => {
    const name = await c.inp.string(4096);
    const text = await c.inp.bytes();
    const references = await readStorePaths(c.inp, c.store.storeDir);
    c.logger.startWork();
    const path = await c.store.addTextToStore(name, text, references);
    c.logger.stopWork();
    c.reply.string(path);
  },

  [WorkerOp.AddToStoreNar]: async (c) => {
    const dir = c.store.storeDir;
    const path = await readStorePath(c.inp, dir);
    const info = await readValidPathInfo(c.inp, 16, { storeDir: dir, path });
    const repair = await c.inp.bool();
    const dontCheckSigs = await c.inp.bool();
    if (!c.trusted) info.ultimate = false;
    if (c.minor >= 23) {
      c.logger.startWork();
      await withFramed(c, (src) => addOne(c, info, src, repair, dontCheckSigs));
    } else if (c.minor >= 21) {
      c.logger.startWork();
      const tunnel = new WireReader(tunnelSource(c.inp, c.logger), { what: 'tunnelled NAR' });
      await addOne(c, info, tunnel.narStream(), repair, dontCheckSigs);
    } else {
      const nar = await collect(c.inp.narStream());
      c.logger.startWork();
      await addOne(c, info, once(nar), repair, dontCheckSigs);
    }
    c.logger.stopWork();
  },

  [WorkerOp.AddMultipleToStore]: async (c) => {
    const repair = await c.inp.bool();
    const dontCheckSigs = await c.inp.bool();
    c.logger.startWork();
    await withFramed(c, async (src) => {
      const inner = new WireReader(src, { what: 'AddMultipleToStore data' });
      const count = await inner.u64();
      for (let i = 0; i < count; i++) {
        let info: ValidPathInfo;
        try {
          info = await readValidPathInfo(inner, 16, { storeDir: c.store.storeDir });
        } catch (e) {
          throw new StoreError(
            'BAD_INFO',
            `cannot read path info ${i + 1} of AddMultipleToStore: ${(e as Error).message}`,
            { cause: e },
          );
        }
        info.ultimate = false;
        await addOne(c, info, inner.narStream(), repair, dontCheckSigs);
      }
    });
    c.logger.stopWork();
  },

  [WorkerOp.ImportPaths]: async (c) => {
    c.logger.startWork();
    const inp = new WireReader(tunnelSource(c.inp, c.logger), { what: 'imported paths' });
    const paths = await importPaths(c.store, inp, () => {}, {
      checkSigs: !c.trusted,
      explain: explainSignatureError,
    });
    c.logger.stopWork();
    c.reply.strings(paths);
  },

  [WorkerOp.ExportPath]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    await c.inp.u64(); // obsolete "sign" flag
    c.logger.startWork();
    const info = await c.store.queryPathInfo(path);
    if (!info) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
    const tunnel = (b: Uint8Array) => c.logger.send(new WireWriter().u64(STDERR.WRITE).bytes(b).takeChunks());
    for await (const chunk of c.store.narFromPath(path)) {
      tunnel(chunk);
      await c.logger.flush();
    }
    tunnel(writeExportTrailer(new WireWriter(), info).toBytes());
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.AddSignatures]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    const sigs = await c.inp.strings();
    c.logger.startWork();
    if (!c.trusted) throw new StoreError('UNTRUSTED', 'you are not privileged to add signatures');
    await need(c.store, 'addSignatures')(path, sigs);
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.AddBuildLog]: async (c) => {
    const base = await c.inp.string(4096);
    const drvPath = `${c.store.storeDir}/${base}`;
    c.logger.startWork();
    const log = await withFramed(c, (src) => src.bytes());
    if (!c.trusted) throw new StoreError('UNTRUSTED', 'you are not privileged to add logs');
    assertStorePath(drvPath, c.store.storeDir);
    writeFileSync(need(c.store, 'buildLogPath')(drvPath), log);
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.RegisterDrvOutput]: async (c) => {
    c.logger.startWork();
    if (c.minor < 31) {
      await c.inp.string(1024);
      await c.inp.string(1024);
    } else await c.inp.string();
    throw new StoreError(
      'UNSUPPORTED',
      "experimental Nix feature 'ca-derivations' is disabled; use '--extra-experimental-features ca-derivations' to override",
    );
  },
};
