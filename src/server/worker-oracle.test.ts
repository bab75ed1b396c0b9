// tix's daemon against Nix 2.8's own `nix-daemon --stdio` as the oracle: the same requests go to
// both, each on a fresh chroot store, and what they answer must agree (all but registration
// times). Uploads from old clients (worker protocol before 1.25, Nix 2.3 and older): the legacy
// AddToStore (name, fixed, recursive, algorithm, then the NAR unframed) at 1.21 and 1.24, and
// AddToStoreNar with its NAR unframed (1.20), tunnelled through STDERR_READ (1.21) and framed
// (1.23); the current AddToStore (1.34); the queries that do not build; garbage collection.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../cli/run-cli.test-util.js';
import { spawnTransport } from '../distribute/transport.js';
import { instantiateDerivation } from '../formats/derivation-instantiate.js';
import { hashBytes, printHash } from '../formats/hash.js';
import { type NarTree, narFromBytesTree } from '../formats/nar.js';
import { WireWriter } from '../formats/wire.js';
import { DaemonConnection } from '../store/daemon-connection.js';
import { openStore } from '../store/open.js';
import type { ValidPathInfo } from '../store/store.js';
import {
  STDERR,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
  WorkerOp,
  writeBasicDerivation,
  writeValidPathInfo,
} from '../store/worker-protocol.js';
import { writeExportTrailer } from './serve-export.js';
import {
  nixAsRootSkip,
  once,
  oracleServerDir,
  REPO_ROOT,
  shDerivation,
  unsignedPath,
} from './worker-test-support.js';

const skip = nixAsRootSkip('chroot stores');
const T = mkdtempSync(join(tmpdir(), 'tix-worker-oracle-'));
after(() => rmSync(T, { recursive: true, force: true }));

const TREE: NarTree = {
  type: 'directory',
  entries: {
    'a.txt': { type: 'regular', contents: 'hello\n' },
    bin: {
      type: 'directory',
      entries: { run: { type: 'regular', executable: true, contents: '#!/bin/sh\n' } },
    },
    link: { type: 'symlink', target: 'a.txt' },
  },
};
const FILE: NarTree = { type: 'regular', contents: 'flat contents\n' };

let sessions = 0;

/** A session at client `version` (1.10 to 1.34) with a fresh daemon of `kind` on the chroot store in `dir`. */
async function oldClient(
  kind: 'nix' | 'tix',
  version: number,
  dir = join(T, `${kind}-${sessions++}`),
  sandbox = false,
  conf = '',
) {
  const { env } = oracleServerDir(dir, sandbox, conf);
  const exe = kind === 'nix' ? 'nix-daemon' : join(REPO_ROOT, 'bin', 'tix-daemon');
  const t = spawnTransport(kind, exe, ['--stdio'], { env });
  const conn = new DaemonConnection({
    name: kind,
    pull: t.input.pull,
    write: (c) => t.output.write(c),
    close: () => t.close(),
  });
  conn.out.u64(WORKER_MAGIC_1).u64(version);
  await conn.flush();
  assert.equal(Number(await conn.inp.u64big()), WORKER_MAGIC_2);
  conn.daemonVersion = Math.min(await conn.inp.u64(), version);
  conn.out.u64(0).u64(0); // no CPU affinity, no reserveSpace
  await conn.flush();
  if (conn.minor >= 33) await conn.inp.string(); // the daemon's Nix version
  await conn.processStderr();
  return { conn, close: () => t.close(), tail: () => t.stderrTail(), dir };
}

type Conn = DaemonConnection;

/** The legacy AddToStore; returns the path. */
async function legacyAdd(
  c: Conn,
  name: string,
  fixed: boolean,
  recursive: 0 | 1,
  algo: string,
  nar: Uint8Array,
) {
  c.out.u64(WorkerOp.AddToStore).string(name).bool(fixed).u64(recursive).string(algo).raw(nar);
  await c.flush();
  await c.processStderr();
  return c.inp.string();
}

/**
 * Answers for the daemon's STDERR_READ requests: `bytes` in pieces of at most `size` (each request
 * asks for at most some bytes; no more may be sent).
 */
function piecesOf(bytes: Uint8Array, size: number): () => Promise<Uint8Array> {
  let at = 0;
  return async () => {
    const piece = bytes.subarray(at, at + size);
    at += piece.length;
    return piece;
  };
}

/** AddToStoreNar the way a client of `c.minor` sends the NAR. */
async function addNar(c: Conn, info: ValidPathInfo, nar: Uint8Array) {
  c.out.u64(WorkerOp.AddToStoreNar).string(info.path);
  writeValidPathInfo(c.out, info, 16, { keyed: false });
  c.out.bool(false).bool(true); // no repair, don't check signatures
  if (c.minor >= 23) return c.framedUpload(once(nar));
  if (c.minor >= 21) {
    await c.flush();
    return c.processStderr({ source: piecesOf(nar, 1000) });
  }
  c.out.raw(nar);
  await c.flush();
  await c.processStderr();
}

/** QueryPathInfo (1.17 and later), without the registration time. */
async function info(c: Conn, path: string) {
  c.out.u64(WorkerOp.QueryPathInfo).string(path);
  await c.flush();
  await c.processStderr();
  if (!(await c.inp.bool())) return 'invalid';
  return readInfo(c);
}

/** A ValidPathInfo after its path, without the registration time. */
async function readInfo(c: Conn) {
  const deriver = await c.inp.string();
  const narHash = await c.inp.string();
  const references = await c.inp.strings();
  await c.inp.u64(); // registration time
  const narSize = await c.inp.u64();
  const ultimate = await c.inp.bool();
  const sigs = await c.inp.strings();
  const ca = await c.inp.string();
  return { deriver, narHash, references, narSize, ultimate, sigs, ca };
}

/** 2.8 colours the errors it sends (ANSI escapes) and names its own `nix log`. */
function plain(message: string): string {
  return message.replace(/\x1b\[[0-9;]*m/g, '').replace("run 'nix log ", "run 'tix log ");
}

/** AddTextToStore of text with references; the path. */
async function addText(c: Conn, name: string, text: string, refs: string[] = []): Promise<string> {
  c.out.u64(WorkerOp.AddTextToStore).string(name).string(text).strings(refs);
  await c.flush();
  await c.processStderr();
  return c.inp.string();
}

/**
 * BuildPathsWithResults: each result as its path, status, error (plain, `dir` as '<dir>'),
 * timesBuilt, isNonDeterministic and its realisations (id, JSON), the times left out.
 */
async function buildWithResults(
  c: Conn,
  paths: string[],
  mode = 0,
  dir = '\0',
  said?: string[],
): Promise<unknown[]> {
  c.out.u64(WorkerOp.BuildPathsWithResults).strings(paths).u64(mode);
  await c.flush();
  // The activities' lines ("building '…'...", "checking outputs of '…'..."), when asked for.
  await c.processStderr({ onLog: (line) => said !== undefined && line.endsWith("'...") && said.push(line) });
  const out: unknown[] = [];
  for (let n = await c.inp.u64(); n > 0; n--) {
    out.push(await c.inp.string(), await c.inp.u64(), plain(await c.inp.string()).replaceAll(dir, '<dir>'));
    out.push(await c.inp.u64(), await c.inp.bool());
    await c.inp.u64(); // start time
    await c.inp.u64(); // stop time
    for (let k = (await c.inp.u64()) * 2; k > 0; k--) out.push(await c.inp.string());
  }
  return out;
}

/** Runs `steps` against both daemons at `version` (and their store's directory); their results must be equal. */
async function sameOnBoth(
  version: number,
  steps: (c: Conn, dir: string) => Promise<unknown[]>,
  opts: { sandbox?: boolean; conf?: string } = {},
) {
  const results: unknown[][] = [];
  for (const kind of ['nix', 'tix'] as const) {
    const { conn, close, tail, dir } = await oldClient(kind, version, undefined, opts.sandbox, opts.conf);
    try {
      results.push(await steps(conn, dir));
    } catch (e) {
      throw new Error(`${kind} at ${version.toString(16)}: ${(e as Error).message}; its stderr: ${tail()}`);
    } finally {
      await close();
    }
  }
  assert.deepEqual(results[1], results[0]);
  return results[0]!;
}

test('legacy AddToStore (1.21, 1.24): the paths and path infos of Nix 2.8', { skip }, async () => {
  const tree = await narFromBytesTree(TREE);
  const file = await narFromBytesTree(FILE);
  for (const version of [0x115, 0x118]) {
    const r = await sameOnBoth(version, async (c) => {
      const out: unknown[] = [];
      // As Nix 2.3 sends them: `fixed` is false for recursive sha256 (its compatibility hack).
      for (const [name, fixed, recursive, algo, nar] of [
        ['tree', false, 1, 'sha256', tree],
        ['flat', true, 0, 'sha256', file],
        ['flat-sha1', true, 0, 'sha1', file],
        ['tree-sha1', true, 1, 'sha1', tree],
        ['flat-md5', true, 0, 'md5', file],
      ] as const) {
        const path = await legacyAdd(c, name, fixed, recursive, algo, nar);
        out.push(path, await info(c, path));
      }
      return out;
    });
    assert.equal(r.length, 10);
    assert.match(String(r[0]), /^\/nix\/store\/[0-9a-z]{32}-tree$/);
    assert.match(String((r[3] as { ca: string }).ca), /^fixed:sha256:/);
  }
});

test('AddToStore (1.34): the path infos of Nix 2.8 in its reply', { skip }, async () => {
  const tree = await narFromBytesTree(TREE);
  const r = await sameOnBoth(0x122, async (c) => {
    const out: unknown[] = [];
    for (const [name, method, dump] of [
      ['text', 'text:sha256', new TextEncoder().encode('some text\n')],
      ['tree', 'fixed:r:sha256', tree],
      ['flat-sha1', 'fixed:sha1', new TextEncoder().encode('flat contents\n')],
    ] as const) {
      c.out.u64(WorkerOp.AddToStore).string(name).string(method).strings([]).bool(false);
      await c.framedUpload(once(dump));
      out.push(await c.inp.string(), await readInfo(c));
    }
    return out;
  });
  assert.equal(r.length, 6);
  assert.match(String((r[1] as { ca: string }).ca), /^text:sha256:/);
});

test('AddToStoreNar unframed (1.20), tunnelled (1.21) and framed (1.23): as Nix 2.8 registers it', {
  skip,
}, async () => {
  const big = 'x'.repeat(100_000);
  for (const version of [0x114, 0x115, 0x117]) {
    const small = await unsignedPath(`legacy-nar-${version}`, 'small\n');
    const large = await unsignedPath(`legacy-nar-big-${version}`, big);
    const r = await sameOnBoth(version, async (c) => {
      await addNar(c, small.info, small.nar);
      await addNar(c, large.info, large.nar);
      return [await info(c, small.info.path), await info(c, large.info.path)];
    });
    for (const [i, p] of [small, large].entries()) {
      const got = r[i] as { narSize: number; narHash: string };
      assert.equal(got.narSize, p.nar.length);
      assert.equal(`sha256:${got.narHash}`, p.info.narHash);
    }
  }
});

test('queries after AddTextToStore (1.24, 1.34): the answers of Nix 2.8', { skip }, async () => {
  const dir = '/nix/store';
  for (const version of [0x118, 0x122]) {
    await sameOnBoth(version, async (c) => {
      const out: unknown[] = [];
      const call = async (write: () => void, read: () => Promise<unknown>) => {
        write();
        await c.flush();
        await c.processStderr();
        out.push(await read());
      };
      const add = async (name: string, text: string, refs: string[]) => {
        const p = await addText(c, name, text, refs);
        out.push(p);
        return p;
      };
      const dep = await add('dep', 'dep\n', []);
      const top = await add('top', `${dep}\n`, [dep]);
      const made = instantiateDerivation(
        {
          name: 'thing',
          outputs: ['out'],
          inputDrvs: [],
          inputDrvOutputs: [],
          inputSrcs: [dep],
          system: 'x86_64-linux',
          builder: '/bin/sh',
          args: ['-c', 'echo > $out'],
          envKeys: ['builder', 'name', 'out', 'system'],
          envVals: ['/bin/sh', 'thing', '', 'x86_64-linux'],
        },
        { storeDir: dir, inputHashBase16: () => '' },
      );
      const drv = await add('thing.drv', made.text, [dep]);
      const output = made.outputPaths[0]!;
      const strings = () => c.inp.strings();
      const one = (op: number, arg: string) => () => c.out.u64(op).string(arg);
      // Not QueryReferences: Nix 2.8's daemon dies of a segmentation fault on it for a path with
      // references (it iterates over the references of a path info it has already let go).
      await call(one(WorkerOp.QueryReferrers, dep), strings);
      await call(one(WorkerOp.QueryPathHash, top), () => c.inp.string());
      await call(one(WorkerOp.QueryDeriver, top), () => c.inp.string());
      await call(one(WorkerOp.QueryDerivationOutputs, drv), strings);
      await call(one(WorkerOp.QueryDerivationOutputNames, drv), strings);
      await call(one(WorkerOp.QueryValidDerivers, output), strings);
      await call(one(WorkerOp.QueryPathFromHashPart, top.slice(dir.length + 1, dir.length + 33)), () =>
        c.inp.string(),
      );
      await call(() => c.out.u64(WorkerOp.QueryAllValidPaths), strings);
      await call(one(WorkerOp.HasSubstitutes, top), () => c.inp.bool());
      await call(() => c.out.u64(WorkerOp.QuerySubstitutablePaths).strings([top, output]), strings);
      await call(
        () => c.out.u64(WorkerOp.QueryMissing).strings([`${drv}!out`, top]),
        async () => [await strings(), await strings(), await strings(), await c.inp.u64(), await c.inp.u64()],
      );
      if (c.minor >= 22) {
        await call(one(WorkerOp.QueryDerivationOutputMap, drv), async () => {
          const n = await c.inp.u64();
          const m: string[] = [];
          for (let i = 0; i < n; i++) m.push(await c.inp.string(), await c.inp.string());
          return m;
        });
      }
      await call(
        () => c.out.u64(WorkerOp.AddSignatures).string(top).strings(['k1:c2ln']),
        () => c.inp.u64(),
      );
      await call(one(WorkerOp.QueryPathInfo, top), async () =>
        (await c.inp.bool()) ? readInfo(c) : 'invalid',
      );
      await call(one(WorkerOp.IsValidPath, output), () => c.inp.bool());
      await call(one(WorkerOp.AddTempRoot, top), () => c.inp.u64());
      await call(
        () => c.out.u64(WorkerOp.SyncWithGC),
        () => c.inp.u64(),
      );
      await call(
        () => c.out.u64(WorkerOp.VerifyStore).bool(true).bool(false),
        () => c.inp.bool(),
      );
      await call(one(WorkerOp.NarFromPath, top), async () => {
        const parts: Uint8Array[] = [];
        for await (const b of c.inp.narStream()) parts.push(b.slice());
        return Buffer.concat(parts).toString('base64');
      });
      return out;
    });
  }
});

test('garbage collection after a session: the live, dead and deleted paths of Nix 2.8', {
  skip,
}, async () => {
  const results: unknown[][] = [];
  for (const kind of ['nix', 'tix'] as const) {
    const dir = join(T, `gc-${kind}`);
    const out: unknown[] = [];
    const first = await oldClient(kind, 0x122, dir);
    try {
      const c = first.conn;
      const dep = await addText(c, 'dep', 'dep\n');
      await addText(c, 'top', `${dep}\n`, [dep]);
      await addText(c, 'lone', 'lone\n');
      const kept = await addText(c, 'kept', `${dep}\n`, [dep]);
      // An indirect root: a link outside the store to a path in it, registered by the daemon.
      const link = join(dir, 'result');
      symlinkSync(kept, link);
      c.out.u64(WorkerOp.AddIndirectRoot).string(link);
      await c.flush();
      await c.processStderr();
      out.push(await c.inp.u64());
    } finally {
      await first.close();
    }
    // A second session: the first one's temporary roots are gone with its daemon.
    const second = await oldClient(kind, 0x122, dir);
    try {
      const c = second.conn;
      const gc = async (action: number, paths: string[] = []) => {
        c.out
          .u64(WorkerOp.CollectGarbage)
          .u64(action)
          .strings(paths)
          .bool(false)
          .u64(2n ** 64n - 1n);
        c.out.u64(0).u64(0).u64(0);
        await c.flush();
        // The progress lines, sorted: the order of deletion is the store directory's in 2.8.
        const logs: string[] = [];
        await c.processStderr({ onLog: (line) => logs.push(line) });
        const got = [(await c.inp.strings()).sort(), await c.inp.u64(), logs.sort()];
        await c.inp.u64();
        return got;
      };
      out.push(await gc(0), await gc(1)); // returnLive, returnDead
      c.out.u64(WorkerOp.FindRoots);
      await c.flush();
      await c.processStderr();
      const roots: string[] = [];
      for (let n = await c.inp.u64(); n > 0; n--) {
        const [l, p] = [await c.inp.string(), await c.inp.string()];
        if (!l.startsWith('/proc/')) roots.push(`${l.replace(dir, '<dir>')} -> ${p}`);
      }
      out.push(roots.sort());
      out.push(await gc(2)); // deleteDead
      // Optimising what is left: its summary line comes to the client.
      c.out.u64(WorkerOp.OptimiseStore);
      await c.flush();
      const said: string[] = [];
      await c.processStderr({ onLog: (line) => said.push(line) });
      out.push(said, await c.inp.u64());
      c.out.u64(WorkerOp.QueryAllValidPaths);
      await c.flush();
      await c.processStderr();
      out.push((await c.inp.strings()).sort());
    } finally {
      await second.close();
    }
    results.push(out);
  }
  assert.deepEqual(results[1], results[0]);
  const [, , dead] = results[0] as [unknown, unknown, [string[], number]];
  assert.equal(dead[0].length, 2, `dead: ${dead[0]}`);
});

test('builds (1.34): BuildPathsWithResults, BuildPaths and BuildDerivation results and outputs of Nix 2.8', {
  skip,
}, async () => {
  const ok = await shDerivation('built', 'echo built > $out');
  const fails = await shDerivation('fails', 'echo oops >&2; exit 3');
  const fails2 = await shDerivation('fails-too', 'echo no >&2; exit 4');
  const direct = await shDerivation('direct', 'echo direct > $out');
  await sameOnBoth(0x122, async (c) => {
    const out: unknown[] = [];
    const result = async () => {
      const r = { status: await c.inp.u64(), errorMsg: plain(await c.inp.string()) };
      const times = [await c.inp.u64(), await c.inp.bool(), await c.inp.u64(), await c.inp.u64()];
      const built: string[] = [];
      for (let n = await c.inp.u64(); n > 0; n--) built.push(await c.inp.string(), await c.inp.string());
      return { ...r, timesBuilt: times[0], isNonDeterministic: times[1], built };
    };
    const okDrv = await addText(c, 'built.drv', ok.text);
    // An output that keeps one of its two inputs' paths: its references are found by scanning.
    const dep = await addText(c, 'dep', 'dep\n');
    const other = await addText(c, 'other', 'other\n');
    const refs = await shDerivation('refs', `echo ${dep} > $out; echo ${other.slice(0, 20)} >> $out`, [
      dep,
      other,
    ]);
    const refsDrv = await addText(c, 'refs.drv', refs.text, [dep, other]);
    c.out
      .u64(WorkerOp.BuildPaths)
      .strings([`${refsDrv}!out`])
      .u64(0);
    await c.flush();
    await c.processStderr();
    out.push(await c.inp.u64(), await info(c, refs.out));
    const failsDrv = await addText(c, 'fails.drv', fails.text);
    out.push(...(await buildWithResults(c, [`${okDrv}!out`, `${failsDrv}!out`])), await info(c, ok.out));
    // BuildPaths of a failing derivation: the error itself, not logged before.
    c.out
      .u64(WorkerOp.BuildPaths)
      .strings([`${failsDrv}!out`])
      .u64(0);
    await c.flush();
    const logged: string[] = [];
    out.push(
      await c.processStderr({ onLog: (line) => plain(line).startsWith('error:') && logged.push(line) }).then(
        () => c.inp.u64(),
        (e: Error) => plain(e.message),
      ),
      logged,
    );
    // Two failing at once: the one built logs its error (the other is stopped without one), then
    // the build of both fails.
    const fails2Drv = await addText(c, 'fails-too.drv', fails2.text);
    c.out
      .u64(WorkerOp.BuildPaths)
      .strings([`${failsDrv}!out`, `${fails2Drv}!out`])
      .u64(0);
    await c.flush();
    const errors: string[] = [];
    out.push(
      await c
        .processStderr({ onLog: (line) => plain(line).startsWith('error:') && errors.push(plain(line)) })
        .then(
          () => c.inp.u64(),
          (e: Error) => plain(e.message),
        ),
      errors,
    );
    // The same with results: the stopped build's result.
    out.push(...(await buildWithResults(c, [`${failsDrv}!out`, `${fails2Drv}!out`])));
    c.out.u64(WorkerOp.BuildDerivation).string(direct.drvPath);
    writeBasicDerivation(c.out, direct.basic);
    c.out.u64(0);
    await c.flush();
    await c.processStderr();
    out.push(await result(), await info(c, direct.out));
    return out;
  });
});

test('AddMultipleToStore and ImportPaths (1.34): registered as Nix 2.8 registers them', {
  skip,
}, async () => {
  const dep = await unsignedPath('multi-dep', 'dep\n');
  const top = await unsignedPath('multi-top', `${dep.info.path}\n`);
  top.info.references = [dep.info.path];
  top.info.sigs = ['k1:c2ln'];
  const imported = await unsignedPath('imported', `${dep.info.path} imported\n`);
  imported.info.references = [dep.info.path];
  imported.info.deriver = '/nix/store/00000000000000000000000000000000-imported.drv';
  const stream = new WireWriter();
  stream.u64(1).raw(imported.nar);
  writeExportTrailer(stream, imported.info).u64(0);
  const exported = stream.toBytes();
  await sameOnBoth(0x122, async (c) => {
    const batch = new WireWriter().u64(2);
    for (const p of [dep, top]) {
      writeValidPathInfo(batch, p.info, 16, { keyed: true });
      batch.raw(p.nar);
    }
    c.out.u64(WorkerOp.AddMultipleToStore).bool(false).bool(true);
    await c.framedUpload(once(batch.toBytes()));
    c.out.u64(WorkerOp.ImportPaths);
    await c.flush();
    await c.processStderr({ source: piecesOf(exported, 4096) });
    const out: unknown[] = [await c.inp.strings()];
    for (const p of [dep, top, imported]) out.push(await info(c, p.info.path));
    return out;
  });
});

test('refused requests (1.34): the errors of Nix 2.8, and the session goes on', { skip }, async () => {
  const good = await unsignedPath('err-good', 'good\n');
  const refs = await unsignedPath('err-refs', 'refs\n');
  refs.info.references = ['/nix/store/22222222222222222222222222222222-not-there'];
  const lying = await unsignedPath('err-lying', 'lying\n');
  lying.info.narHash = good.info.narHash;
  const short = await unsignedPath('err-short', 'short\n');
  short.info.narSize += 8;
  await sameOnBoth(0x122, async (c) => {
    const out: unknown[] = [];
    const attempt = async (send: () => Promise<unknown>, read: () => Promise<unknown> = async () => 'ok') => {
      try {
        const sent = await send();
        out.push(sent === undefined ? await read() : sent);
      } catch (e) {
        out.push(plain((e as Error).message));
      }
    };
    const query = (op: number, arg: string) => async () => {
      c.out.u64(op).string(arg);
      await c.flush();
      await c.processStderr();
    };
    await attempt(() => addNar(c, lying.info, lying.nar));
    await attempt(() => addNar(c, refs.info, refs.nar));
    await attempt(query(WorkerOp.QueryPathInfo, '/nix/store/33333333333333333333333333333333-missing'), () =>
      c.inp.bool(),
    );
    await attempt(query(WorkerOp.QueryReferrers, '/nix/store/33333333333333333333333333333333-missing'), () =>
      c.inp.strings(),
    );
    // Not NarFromPath of an invalid path: 2.8's daemon ends the work before it looks, so its error
    // lands in the middle of the answer and the session is out of step.
    const notThere = '/nix/store/22222222222222222222222222222222-not-there';
    await attempt(() => addText(c, 'text-with-bad-ref', 'x', [notThere]));
    await attempt(() => buildWithResults(c, ['/nix/store/44444444444444444444444444444444-x.drv!out']));
    // Still in step: an ordinary request after the errors.
    await attempt(() => addNar(c, good.info, good.nar));
    await attempt(query(WorkerOp.IsValidPath, good.info.path), () => c.inp.bool());
    return out;
  });
});

test('VerifyStore of a store with a changed file (1.34): what Nix 2.8 reports and answers', {
  skip,
}, async () => {
  await sameOnBoth(0x122, async (c, dir) => {
    const out: unknown[] = [];
    const added: string[] = [];
    for (const [name, text] of [
      ['victim', 'original\n'],
      ['fine', 'fine\n'],
    ]) {
      c.out.u64(WorkerOp.AddTextToStore).string(name!).string(text!).strings([]);
      await c.flush();
      await c.processStderr();
      added.push(await c.inp.string());
    }
    writeFileSync(join(dir, 'root', added[0]!), 'changed\n');
    for (const repair of [false, true]) {
      const lines: string[] = [];
      c.out.u64(WorkerOp.VerifyStore).bool(true).bool(repair);
      await c.flush();
      try {
        await c.processStderr({ onLog: (l) => lines.push(l.replace(/\x1b\[[0-9;]*m/g, '')) });
        out.push(await c.inp.bool());
      } catch (e) {
        out.push((e as Error).message);
      }
      out.push(lines.filter((l) => !/^(reading|checking)/.test(l)));
    }
    return out;
  });
});

test('SetOptions (1.34): max-silent-time, timeout and max-build-log-size end builds as on Nix 2.8', {
  skip,
}, async () => {
  const silent = await shDerivation('silent', 'PATH=/bin:/usr/bin; sleep 4; echo > $out');
  const slow = await shDerivation(
    'slow',
    'PATH=/bin:/usr/bin; for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done; echo > $out',
  );
  const chatty = await shDerivation(
    'chatty',
    'PATH=/bin:/usr/bin; for i in 1 2 3 4 5 6 7 8 9 10; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; done; echo > $out',
  );
  await sameOnBoth(0x122, async (c) => {
    const out: unknown[] = [];
    const setOptions = (maxSilentTime: number, overrides: Map<string, string>) => {
      c.out.u64(WorkerOp.SetOptions).u64(0).u64(0).u64(0).u64(3).u64(1).u64(maxSilentTime);
      c.out.u64(0).u64(3).u64(0).u64(0).u64(1).u64(0).stringMap(overrides);
    };
    for (const [d, maxSilent, overrides] of [
      [silent, 1, new Map()],
      [slow, 0, new Map([['timeout', '2']])],
      [chatty, 0, new Map([['max-build-log-size', '100']])],
    ] as const) {
      setOptions(maxSilent, overrides);
      await c.flush();
      await c.processStderr();
      const drv = await addText(c, `${d.basic.name}.drv`, d.text);
      out.push(...(await buildWithResults(c, [`${drv}!out`])));
      out.push(await info(c, d.out));
    }
    // The same limit on a derivation sent whole (BuildDerivation): 2.8 says "in-memory derivation".
    setOptions(1, new Map());
    await c.flush();
    await c.processStderr();
    c.out.u64(WorkerOp.BuildDerivation).string(silent.drvPath);
    writeBasicDerivation(c.out, silent.basic);
    c.out.u64(0);
    await c.flush();
    await c.processStderr();
    out.push(await c.inp.u64(), plain(await c.inp.string()), await c.inp.u64(), await c.inp.bool());
    await c.inp.u64(); // start time
    await c.inp.u64(); // stop time
    for (let k = (await c.inp.u64()) * 2; k > 0; k--) out.push(await c.inp.string());
    return out;
  });
});

test('fixed-output derivations (1.34): right and wrong hashes, as Nix 2.8 builds and refuses them', {
  skip,
}, async () => {
  const contents = 'fixed contents\n';
  const flat = { method: 'flat' as const, hash: hashBytes('sha256', contents) };
  const right = await shDerivation('fod-right', `printf 'fixed contents\\n' > $out`, [], flat);
  const wrong = await shDerivation('fod-wrong', `printf 'other contents\\n' > $out`, [], flat);
  const rec = await shDerivation('fod-rec', 'PATH=/bin:/usr/bin; mkdir $out; echo x > $out/f', [], {
    method: 'recursive',
    hash: hashBytes('sha256', 'not the NAR'),
  });
  await sameOnBoth(0x122, async (c) => {
    const out: unknown[] = [];
    for (const d of [right, wrong, rec]) {
      const drv = await addText(c, `${d.basic.name}.drv`, d.text);
      out.push(...(await buildWithResults(c, [`${drv}!out`])));
      out.push(await info(c, d.out));
    }
    return out;
  });
});

test('several outputs, one or all wanted, and --check, in and out of the sandbox (1.34): as Nix 2.8', {
  skip,
}, async () => {
  // dev refers to out: rebuilt outside the sandbox at a fallback path, it must get out's path back.
  const multi = await shDerivation('multi', 'echo out > $out; echo $out > $dev', [], undefined, [
    'out',
    'dev',
  ]);
  const varies = await shDerivation('varies', 'PATH=/bin:/usr/bin; cat /proc/sys/kernel/random/uuid > $out');
  for (const sandbox of [true, false]) {
    await sameOnBoth(
      0x122,
      async (c, dir) => {
        const out: unknown[] = [];
        const drvs = new Map<string, string>();
        for (const d of [multi, varies]) {
          drvs.set(d.basic.name, await addText(c, `${d.basic.name}.drv`, d.text));
        }
        const build = async (paths: string[], mode: number) => {
          const said: string[] = [];
          out.push(...(await buildWithResults(c, paths, mode, dir, said)), said);
        };
        const m = drvs.get('multi')!;
        // out valid already (added, with the bytes the builder writes), dev not: dev is built
        // beside it (outside the sandbox, out at a fallback path) and must refer to out's path.
        const outNar = await narFromBytesTree({ type: 'regular', contents: 'out\n' });
        const outInfo = {
          path: multi.outPaths.get('out')!,
          narHash: `sha256:${printHash(hashBytes('sha256', outNar), 'base16')}`,
          narSize: outNar.length,
          references: [],
          registrationTime: 0,
          ultimate: false,
          sigs: [],
        };
        await addNar(c, outInfo, outNar);
        await build([`${m}!dev`], 0);
        out.push(await info(c, multi.outPaths.get('out')!), await info(c, multi.outPaths.get('dev')!));
        await build([`${m}!*`], 0);
        await build([`${m}!out`], 0); // already valid
        await build([`${m}!*`], 2); // --check: the same bytes again
        const v = drvs.get('varies')!;
        await build([`${v}!out`], 0);
        await build([`${v}!out`], 2); // --check: other bytes
        // One request naming a derivation twice and a plain path: one result per goal, in the
        // goals' order (paths first, then by name), each under its first request's path.
        await build([`${v}!out`, `${m}!out`, multi.outPaths.get('out')!, `${m}!dev`], 0);
        return out;
      },
      { sandbox },
    );
  }
});

test('a session ended by a bad request: --stdio exits as nix-daemon --stdio does, quietly', { skip }, () => {
  const hello = () => new WireWriter().u64(WORKER_MAGIC_1).u64(0x120).u64(0).u64(0);
  for (const [what, w] of [
    ['an unknown operation', hello().u64(999)],
    ['a path outside the store', hello().u64(WorkerOp.QueryPathInfo).string('/tmp/not-the-store')],
  ] as const) {
    const ends = (['nix', 'tix'] as const).map((kind) => {
      const { env } = oracleServerDir(join(T, `${kind}-${sessions++}`));
      const exe = kind === 'nix' ? 'nix-daemon' : join(REPO_ROOT, 'bin', 'tix-daemon');
      const r = spawnSync(exe, ['--stdio'], { input: w.toBytes(), env });
      return { status: r.status, stderr: r.stderr.toString() };
    });
    assert.deepEqual(ends[1], ends[0], what);
  }
});

test('substitution from a file:// cache (1.34): what Nix 2.8 reports and fetches', { skip }, async () => {
  // A cache with one path that refers to another, written by tix copy from a store of its own.
  const src = join(T, 'subst-src');
  const cache = join(T, 'subst-cache');
  const store = await openStore(`local?root=${src}`);
  const dep = await store.addTextToStore('subst-dep', 'dep\n', []);
  const top = await store.addTextToStore('subst-top', `${dep}\n`, [dep]);
  await store.close();
  const copied = await runCli(['--store', `local?root=${src}`, 'copy', '--to', `file://${cache}`, top], {
    cwd: T,
  });
  assert.equal(copied.code, 0, copied.stderr);
  const conf = `substituters = file://${cache}\nrequire-sigs = false\n`;
  await sameOnBoth(
    0x122,
    async (c) => {
      const out: unknown[] = [];
      const missing = '/nix/store/33333333333333333333333333333333-missing';
      c.out.u64(WorkerOp.QuerySubstitutablePaths).strings([top, dep, missing]);
      await c.flush();
      await c.processStderr();
      out.push((await c.inp.strings()).sort());
      c.out.u64(WorkerOp.QuerySubstitutablePathInfos).stringMap(
        new Map([
          [top, ''],
          [missing, ''],
        ]),
      );
      await c.flush();
      await c.processStderr();
      for (let n = await c.inp.u64(); n > 0; n--) {
        out.push(
          await c.inp.string(),
          await c.inp.string(),
          await c.inp.strings(),
          await c.inp.u64(),
          await c.inp.u64(),
        );
      }
      c.out.u64(WorkerOp.QueryMissing).strings([top]);
      await c.flush();
      await c.processStderr();
      out.push(
        await c.inp.strings(),
        await c.inp.strings(),
        await c.inp.strings(),
        await c.inp.u64(),
        await c.inp.u64(),
      );
      c.out.u64(WorkerOp.EnsurePath).string(top);
      await c.flush();
      await c.processStderr();
      out.push(await c.inp.u64(), await info(c, top), await info(c, dep));
      return out;
    },
    { conf },
  );
});

test('ExportPath (1.34): the export stream Nix 2.8 sends, byte for byte', { skip }, async () => {
  await sameOnBoth(0x122, async (c) => {
    const dep = await addText(c, 'export-dep', 'dep\n');
    const top = await addText(c, 'export-top', `${dep}\n`, [dep]);
    c.out.u64(WorkerOp.ExportPath).string(top).u64(0);
    await c.flush();
    // The stream comes as STDERR_WRITE messages before the end of the work.
    const written: Uint8Array[] = [];
    for (let msg = await c.inp.u64(); msg !== STDERR.LAST; msg = await c.inp.u64()) {
      if (msg === STDERR.WRITE) written.push((await c.inp.bytes()).slice());
      else if (msg === STDERR.NEXT) await c.inp.string();
      else throw new Error(`unexpected message ${msg.toString(16)}`);
    }
    return [Buffer.concat(written).toString('base64'), await c.inp.u64()];
  });
});
