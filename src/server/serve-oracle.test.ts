// `tix-store --serve --write` against Nix 2.8's own `nix-store --serve --write` as the oracle: the
// same request bytes (a client of serve protocol 2.4, 2.5, 2.6 and 2.7) go to both, each on a fresh
// chroot store, and the reply bytes must be identical. The session uploads with AddToStoreNar and
// ImportPaths and then asks everything that does not build: validity (with and without the lock
// flag), path infos, NAR dumps, exports and closures, including paths that are not valid.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WireWriter } from '../formats/wire.js';
import { SERVE_MAGIC_1, ServeOp, writeAddToStoreNarHeader } from '../store/serve-protocol.js';
import { writeExportTrailer } from './serve-export.js';
import { nixAsRootSkip, REPO_ROOT, unsignedPath } from './worker-test-support.js';

const skip = nixAsRootSkip('chroot stores');
const T = mkdtempSync(join(tmpdir(), 'tix-serve-oracle-'));
after(() => rmSync(T, { recursive: true, force: true }));

let runs = 0;

/** Feeds `input` to a fresh `--serve --write` of `kind`; its whole output and exit status. */
function serve(kind: 'nix' | 'tix', input: Uint8Array) {
  const dir = join(T, `${kind}-${runs++}`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const conf = 'build-users-group =\nsubstituters =\n';
  writeFileSync(join(dir, 'etc', 'nix.conf'), conf);
  writeFileSync(join(dir, 'etc', 'tix.conf'), conf);
  const store = `local?root=${join(dir, 'root')}`;
  const exe = kind === 'nix' ? 'nix-store' : join(REPO_ROOT, 'bin', 'tix-store');
  const r = spawnSync(exe, ['--serve', '--write', '--store', store], {
    input,
    env: { ...process.env, NIX_CONF_DIR: join(dir, 'etc'), TIX_CONF_DIR: join(dir, 'etc'), HOME: dir },
    maxBuffer: 64 << 20,
  });
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
    for (const p of [dep, top]) {
      w.u64(ServeOp.AddToStoreNar);
      writeAddToStoreNarHeader(w, p.info);
      w.raw(p.nar);
    }
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
