// `tix-store --serve --write` against Nix 2.8's own `nix-store --serve --write` as the oracle: the
// same request bytes (a client of serve protocol 2.4, 2.5, 2.6 and 2.7) go to both, each on a fresh
// chroot store, and the reply bytes must be identical. The session uploads with AddToStoreNar and
// ImportPaths and then asks everything that does not build: validity (with and without the lock
// flag), path infos, NAR dumps, exports and closures, including paths that are not valid. Builds
// (BuildPaths and BuildDerivation, a success and a failure each) are compared once decoded, their
// start and stop times aside.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { spawnTransport } from '../distribute/transport.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import {
  DEFAULT_BUILD_OPTIONS,
  SERVE_MAGIC_1,
  ServeOp,
  writeAddToStoreNarHeader,
  writeBasicDerivation,
  writeBuildOptions,
} from '../store/serve-protocol.js';
import type { ValidPathInfo } from '../store/store.js';
import { writeExportTrailer } from './serve-export.js';
import {
  nixAsRootSkip,
  oracleServerDir,
  REPO_ROOT,
  shDerivation,
  unsignedPath,
} from './worker-test-support.js';

const skip = nixAsRootSkip('chroot stores');
const T = mkdtempSync(join(tmpdir(), 'tix-serve-oracle-'));
after(() => rmSync(T, { recursive: true, force: true }));

let runs = 0;

/** A fresh `--serve --write` of `kind` on its own chroot store: the executable, arguments, env. */
function server(kind: 'nix' | 'tix') {
  const dir = join(T, `${kind}-${runs++}`);
  const { store, env } = oracleServerDir(dir);
  return {
    exe: kind === 'nix' ? 'nix-store' : join(REPO_ROOT, 'bin', 'tix-store'),
    args: ['--serve', '--write', '--store', store],
    env: { ...env, HOME: dir },
  };
}

/** An AddToStoreNar request for `p`, NAR included, written to `w`. */
function addToStoreNar(w: WireWriter, p: { info: ValidPathInfo; nar: Uint8Array }): WireWriter {
  w.u64(ServeOp.AddToStoreNar);
  writeAddToStoreNarHeader(w, p.info);
  return w.raw(p.nar);
}

/** Feeds `input` to a fresh server of `kind` and closes its stdin; its whole output and exit status. */
function serve(kind: 'nix' | 'tix', input: Uint8Array) {
  const s = server(kind);
  const r = spawnSync(s.exe, s.args, { input, env: s.env, maxBuffer: 64 << 20 });
  return { out: r.stdout, status: r.status, stderr: r.stderr.toString() };
}

test('every non-building serve command answers byte for byte as Nix 2.8 (2.4 to 2.7 clients)', {
  skip,
}, async () => {
  const dep = await unsignedPath('serve-dep', 'dep\n');
  const top = await unsignedPath('serve-top', `${dep.info.path}\n`);
  top.info.references = [dep.info.path];
  top.info.deriver = '/nix/store/00000000000000000000000000000000-serve-top.drv';
  top.info.sigs = ['k2:c2ln', 'k1:c2ln'];
  const imported = await unsignedPath('serve-imported', 'x'.repeat(70_000));
  imported.info.references = [dep.info.path, imported.info.path];
  const missing = '/nix/store/11111111111111111111111111111111-missing';
  for (const version of [0x204, 0x205, 0x206, 0x207]) {
    const w = new WireWriter().u64(SERVE_MAGIC_1).u64(version);
    for (const p of [dep, top]) addToStoreNar(w, p);
    w.u64(ServeOp.ImportPaths).u64(1).raw(imported.nar);
    writeExportTrailer(w, imported.info).u64(0);
    const all = [dep.info.path, top.info.path, imported.info.path, missing];
    for (const lock of [false, true]) {
      w.u64(ServeOp.QueryValidPaths).bool(lock);
      if (version >= 0x203) w.bool(false); // substitute
      w.strings(all);
    }
    w.u64(ServeOp.QueryPathInfos).strings(all);
    w.u64(ServeOp.DumpStorePath).string(top.info.path);
    w.u64(ServeOp.ExportPaths).u64(0).strings([top.info.path, dep.info.path]);
    for (const outputs of [false, true]) w.u64(ServeOp.QueryClosure).bool(outputs).strings([top.info.path]);
    w.u64(ServeOp.QueryClosure).bool(false).strings([imported.info.path]);
    const input = w.toBytes();
    const nix = serve('nix', input);
    const tix = serve('tix', input);
    const at = `client ${version.toString(16)}`;
    assert.equal(nix.status, 0, `${at}: nix-store: ${nix.stderr}`);
    assert.equal(tix.status, 0, `${at}: tix-store: ${tix.stderr}`);
    assert.ok(nix.out.includes(Buffer.from(imported.info.path)), `${at}: the import is not in Nix's answers`);
    if (!tix.out.equals(nix.out)) {
      let i = 0;
      while (i < nix.out.length && tix.out[i] === nix.out[i]) i++;
      assert.fail(
        `${at}: replies differ from byte ${i} (nix ${nix.out.length} bytes, tix ${tix.out.length}):\n` +
          `nix ${JSON.stringify(nix.out.subarray(i, i + 64).toString('latin1'))}\n` +
          `tix ${JSON.stringify(tix.out.subarray(i, i + 64).toString('latin1'))}`,
      );
    }
  }
});

test('serve builds (2.4 to 2.7 clients): the results of Nix 2.8, times aside', { skip }, async () => {
  const okBuild = await shDerivation('serve-ok', 'echo ok > $out');
  const failBuild = await shDerivation('serve-fail', 'echo oops >&2; exit 3');
  const direct = await shDerivation('serve-direct', 'echo direct > $out');
  for (const version of [0x204, 0x205, 0x206, 0x207]) {
    const w = new WireWriter().u64(SERVE_MAGIC_1).u64(version);
    for (const d of [okBuild, failBuild]) addToStoreNar(w, d);
    const options = (o: WireWriter) => {
      writeBuildOptions(o, DEFAULT_BUILD_OPTIONS, version);
      return o;
    };
    options(w.u64(ServeOp.BuildPaths).strings([okBuild.drvPath]));
    options(w.u64(ServeOp.BuildPaths).strings([failBuild.drvPath]));
    w.u64(ServeOp.BuildDerivation).string(direct.drvPath);
    writeBasicDerivation(w, direct.basic);
    options(w);
    w.u64(ServeOp.BuildDerivation).string(failBuild.drvPath);
    writeBasicDerivation(w, failBuild.basic);
    options(w);
    w.u64(ServeOp.QueryPathInfos).strings([okBuild.out, direct.out, failBuild.out]);
    // A derivation's closure, with and without the outputs that are valid.
    for (const outputs of [false, true]) w.u64(ServeOp.QueryClosure).bool(outputs).strings([okBuild.drvPath]);
    const input = w.toBytes();
    const answers = [];
    for (const kind of ['nix', 'tix'] as const) {
      // Stdin stays open until every answer is in: both give up a build when the client hangs up.
      const s = server(kind);
      const t = spawnTransport(kind, s.exe, s.args, { env: s.env });
      await t.output.write([input]);
      const inp = new WireReader(t.input.pull, { what: `${kind}'s answers at ${version.toString(16)}` });
      const got: unknown[] = [await inp.u64(), await inp.u64()];
      for (let i = 0; i < 2; i++) got.push(await inp.u64()); // AddToStoreNar
      for (let i = 0; i < 2; i++) {
        const status = await inp.u64();
        got.push(status, status === 0 ? '' : plain(await inp.string()));
      }
      for (let i = 0; i < 2; i++) {
        got.push(await inp.u64(), plain(await inp.string()));
        if (version >= 0x203) {
          got.push(await inp.u64(), await inp.bool());
          await inp.u64(); // start time
          await inp.u64(); // stop time
        }
        // Meant for 2.6 clients on, but 2.8 tests `GET_PROTOCOL_MINOR(clientVersion >= 6)`: always.
        const m: string[] = [];
        for (let n = await inp.u64(); n > 0; n--) m.push(await inp.string(), await inp.string());
        got.push(m);
      }
      for (let p = await inp.string(); p !== ''; p = await inp.string()) {
        got.push(p, await inp.string(), await inp.strings(), await inp.u64(), await inp.u64());
        if (version >= 0x204) got.push(await inp.string(), await inp.string(), await inp.strings());
      }
      got.push(await inp.strings(), await inp.strings());
      await t.close();
      assert.ok(await inp.atEnd(), `${kind} at ${version.toString(16)}: more than expected`);
      answers.push(got);
    }
    assert.deepEqual(answers[1], answers[0], `client ${version.toString(16)}`);
  }
});

/** 2.8 colours errors (ANSI escapes) and names its own `nix log`. */
function plain(m: string): string {
  return m.replace(/\x1b\[[0-9;]*m/g, '').replace("run 'nix log ", "run 'tix log ");
}

test('bad requests: the error and exit status of nix-store --serve', { skip }, async () => {
  const hello = () => new WireWriter().u64(SERVE_MAGIC_1).u64(0x206);
  const good = await unsignedPath('serve-bad-good', 'good\n');
  const lying = await unsignedPath('serve-bad-lying', 'lying\n');
  lying.info.narHash = good.info.narHash;
  const orphan = await unsignedPath('serve-bad-orphan', 'orphan\n');
  orphan.info.references = ['/nix/store/22222222222222222222222222222222-not-there'];
  const upload = (p: typeof good) => addToStoreNar(hello(), p);
  const imported = (p: typeof good) =>
    writeExportTrailer(hello().u64(ServeOp.ImportPaths).u64(1).raw(p.nar), p.info).u64(0);
  for (const [what, w] of [
    ['a NAR that does not match its hash', upload(lying)],
    ['a path whose reference is not valid', upload(orphan)],
    ['an import whose reference is not valid', imported(orphan)],
    ['bad magic', new WireWriter().u64(0x1234).u64(0x206)],
    ['unknown command', hello().u64(77)],
    ['a path outside the store', hello().u64(ServeOp.DumpStorePath).string('/tmp/not-the-store')],
    [
      'an invalid path',
      hello().u64(ServeOp.DumpStorePath).string('/nix/store/55555555555555555555555555555555-x'),
    ],
  ] as const) {
    const input = w.toBytes();
    const [nix, tix] = [serve('nix', input), serve('tix', input)];
    assert.equal(nix.status, 1, what);
    assert.equal(tix.status, 1, what);
    assert.equal(tix.stderr, nix.stderr, what);
  }
});

test('serve build limits (2.7): max-silent-time, timeout and max-log-size end builds as on Nix 2.8', {
  skip,
}, async () => {
  const cases = [
    [await shDerivation('serve-silent', 'PATH=/bin:/usr/bin; sleep 4; echo > $out'), { maxSilentTime: 1 }],
    [
      await shDerivation(
        'serve-slow',
        'PATH=/bin:/usr/bin; for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done; echo > $out',
      ),
      { buildTimeout: 1 },
    ],
    [
      await shDerivation(
        'serve-chatty',
        'for i in 1 2 3 4 5 6 7 8; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; done; echo > $out',
      ),
      { maxLogSize: 100 },
    ],
  ] as const;
  const w = new WireWriter().u64(SERVE_MAGIC_1).u64(0x207);
  for (const [d, limits] of cases) {
    w.u64(ServeOp.BuildDerivation).string(d.drvPath);
    writeBasicDerivation(w, d.basic);
    writeBuildOptions(w, { ...DEFAULT_BUILD_OPTIONS, ...limits }, 0x207);
  }
  const input = w.toBytes();
  const answers: unknown[][] = [];
  for (const kind of ['nix', 'tix'] as const) {
    const s = server(kind);
    const t = spawnTransport(kind, s.exe, s.args, { env: s.env });
    await t.output.write([input]);
    const inp = new WireReader(t.input.pull, { what: `${kind}'s answers` });
    const got: unknown[] = [await inp.u64(), await inp.u64()];
    for (let i = 0; i < cases.length; i++) {
      got.push(await inp.u64(), plain(await inp.string()), await inp.u64(), await inp.bool());
      await inp.u64(); // start time
      await inp.u64(); // stop time
      for (let n = (await inp.u64()) * 2; n > 0; n--) got.push(await inp.string());
    }
    await t.close();
    answers.push(got);
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(
    [2, 6, 10].map((i) => answers[0]![i]),
    [8, 8, 11],
    'timed out, timed out, log limit',
  );
});

test('a client that hangs up during a build: the build is given up, exit status 1, as Nix 2.8', {
  skip,
}, async () => {
  const slow = await shDerivation('serve-slow', 'sleep 30; echo late > $out');
  const w = new WireWriter().u64(SERVE_MAGIC_1).u64(0x207);
  w.u64(ServeOp.BuildDerivation).string(slow.drvPath);
  writeBasicDerivation(w, slow.basic);
  writeBuildOptions(w, DEFAULT_BUILD_OPTIONS, 0x207);
  const request = join(T, 'hang-up-request');
  writeFileSync(request, w.toBytes());
  for (const kind of ['nix', 'tix'] as const) {
    const s = server(kind);
    const t0 = Date.now();
    // Through a pipe (Node's own stdio is a socket pair, whose end Nix's poll does not see as a
    // hang-up): the client is gone right after its request, while the build runs.
    const r = spawnSync('sh', ['-c', 'cat "$0" | exec "$@"', request, s.exe, ...s.args], { env: s.env });
    assert.equal(r.status, 1, `${kind}: ${r.stderr}`);
    assert.ok(Date.now() - t0 < 20_000, `${kind} waited for the build`);
    assert.match(r.stderr.toString(), /interrupted by the user/, kind);
  }
});
