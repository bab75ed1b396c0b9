// Substitution in builds (plan.ts through buildPaths): outputs in a file:// binary cache written by
// the binary-cache code are fetched instead of built, top-down (the inputs of a substituted
// derivation are not built, nor fetched unless referenced); a tampered cache fails the derivation
// with the reason unless `fallback`; `allowSubstitutes = false` and missing opaque paths.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BinaryCacheStore } from '../store/binary-cache.js';
import { TEST_PUBLIC, TEST_SECRET } from '../store/binary-cache.test-util.js';
import type { LocalStore } from '../store/local.js';
import { openStore } from '../store/open.js';
import { BuildStatus, type DerivedPath } from '../store/store.js';
import { substitutePaths } from '../store/substitute.js';
import { BuildError } from './errors.js';
import { type BuildPathsOptions, buildPaths } from './goals.js';
import {
  addTestDerivation,
  openTixStore,
  removeDir,
  sandboxSkipReason,
  type TestDrvSpec,
  tempDir,
} from './test-support.js';

const skip = sandboxSkipReason();

const DEP: TestDrvSpec = { name: 'sub-dep', script: 'mkdir $out; echo dep-output > $out/file' };
/** Copies the dep's file, so that top's output does not reference dep's. */
const topSpec = (depDrv: string, name = 'sub-top', env: Record<string, string> = {}): TestDrvSpec => ({
  name,
  script: 'cat $dep/file > $out; echo top-output >> $out',
  env: { dep: '', ...env },
  inputDrvs: { [depDrv]: ['out'] },
});
/** References dep's output. */
const refSpec = (depDrv: string): TestDrvSpec => ({
  name: 'sub-ref',
  script: 'echo $dep > $out',
  env: { dep: '' },
  inputDrvs: { [depDrv]: ['out'] },
});

let dir: string;
let producer: LocalStore;
let n = 0;

/** Sets `dep` env vars to the output path of the input, as the evaluator would. */
function add(store: LocalStore, spec: TestDrvSpec, depOut?: string) {
  const env = depOut ? { ...spec.env, dep: depOut } : spec.env;
  return addTestDerivation(store, { ...spec, env });
}

/** The dep and a dependent in `store`: [depDrv, depOut, topDrv, topOut]. */
function addPair(store: LocalStore, make: (depDrv: string) => TestDrvSpec) {
  const dep = add(store, DEP);
  const depOut = dep.drv.outputs.get('out')!.path;
  const top = add(store, make(dep.drvPath), depOut);
  return { depDrv: dep.drvPath, depOut, topDrv: top.drvPath, topOut: top.drv.outputs.get('out')!.path };
}

/** A file:// cache signed with the test key holding the closures of `paths` from the producer. */
async function makeCache(paths: string[]): Promise<string> {
  const cacheDir = join(dir, `cache${n++}`);
  const uri = `file://${cacheDir}?compression=none&secret-key=${join(dir, 'sk')}`;
  const cache = (await openStore(uri)) as BinaryCacheStore;
  const order: string[] = [];
  const visit = (p: string) => {
    if (order.includes(p)) return;
    for (const r of producer.queryPathInfoSync(p)!.references) if (r !== p) visit(r);
    order.push(p);
  };
  for (const p of paths) visit(p);
  for (const p of order) await cache.addToStoreNar(producer.queryPathInfoSync(p)!, producer.narFromPath(p));
  await cache.close();
  return cacheDir;
}

function consumer(): LocalStore {
  return openTixStore(join(dir, `consumer${n++}`));
}

function hookFor(store: LocalStore, cacheDir: string, log: string[]): BuildPathsOptions['substitute'] {
  return (paths) =>
    substitutePaths(store, paths, {
      substituters: [`file://${cacheDir}`],
      trustedPublicKeys: [TEST_PUBLIC],
      requireSigs: true,
      openStore: (uri) => openStore(uri),
      onLog: (l) => log.push(l),
    });
}

const built = (drvPath: string): DerivedPath[] => [{ kind: 'built', drvPath, outputs: ['out'] }];

describe('buildPaths with substitution', { skip }, () => {
  let pair: ReturnType<typeof addPair>;
  let refPair: ReturnType<typeof addPair>;
  before(async () => {
    dir = tempDir('plan');
    writeFileSync(join(dir, 'sk'), TEST_SECRET);
    producer = openTixStore(join(dir, 'producer'));
    pair = addPair(producer, topSpec);
    refPair = addPair(producer, refSpec);
    await buildPaths(producer, [...built(pair.topDrv), ...built(refPair.topDrv)]);
  });
  after(async () => {
    await producer?.close();
    if (dir) removeDir(dir);
  });

  it('substitutes the top derivation and never builds or fetches its inputs', async () => {
    const cache = await makeCache([pair.topOut, pair.depOut]);
    const store = consumer();
    addPair(store, topSpec);
    const log: string[] = [];
    const started: string[] = [];
    const res = await buildPaths(store, built(pair.topDrv), {
      substitute: hookFor(store, cache, log),
      onStart: (j) => started.push(j.drvPath),
    });
    assert.deepEqual(started, []);
    assert.equal(res.results.get(pair.topDrv)!.status, BuildStatus.Substituted);
    assert.equal(res.results.has(pair.depDrv), false, 'the input derivation is not even considered');
    assert.deepEqual(res.outputs.get(pair.topDrv), new Map([['out', pair.topOut]]));
    assert.equal(readFileSync(store.toRealPath(pair.topOut), 'utf8'), 'dep-output\ntop-output\n');
    assert.equal(store.isValidPathSync(pair.depOut), false, "dep's output is not fetched");
    assert.deepEqual(log, [`copying path '${pair.topOut}' from 'file://${cache}'...`]);
    await store.close();
  });

  it("fetches a substituted output's references with it", async () => {
    const cache = await makeCache([refPair.topOut]);
    const store = consumer();
    addPair(store, refSpec);
    const log: string[] = [];
    const res = await buildPaths(store, built(refPair.topDrv), { substitute: hookFor(store, cache, log) });
    assert.equal(res.results.get(refPair.topDrv)!.status, BuildStatus.Substituted);
    assert.ok(store.isValidPathSync(refPair.depOut));
    assert.deepEqual(log, [
      `copying path '${refPair.depOut}' from 'file://${cache}'...`,
      `copying path '${refPair.topOut}' from 'file://${cache}'...`,
    ]);
    await store.close();
  });

  it('builds what the cache lacks and substitutes the inputs it has', async () => {
    const cache = await makeCache([pair.depOut]);
    const store = consumer();
    addPair(store, topSpec);
    const started: string[] = [];
    const res = await buildPaths(store, built(pair.topDrv), {
      substitute: hookFor(store, cache, []),
      onStart: (j) => started.push(j.drvPath),
    });
    assert.deepEqual(started, [pair.topDrv]);
    assert.equal(res.results.get(pair.depDrv)!.status, BuildStatus.Substituted);
    assert.equal(res.results.get(pair.topDrv)!.status, BuildStatus.Built);
    assert.equal(readFileSync(store.toRealPath(pair.topOut), 'utf8'), 'dep-output\ntop-output\n');
    await store.close();
  });

  it('allowSubstitutes = false builds even when the cache has the output', async () => {
    const store = consumer();
    const dep = add(store, DEP);
    const depOut = dep.drv.outputs.get('out')!.path;
    const top = add(store, topSpec(dep.drvPath, 'sub-local', { allowSubstitutes: '' }), depOut);
    // The same derivation built by the producer, so that the cache has its output.
    add(producer, topSpec(dep.drvPath, 'sub-local', { allowSubstitutes: '' }), depOut);
    await buildPaths(producer, built(top.drvPath));
    const topOut = top.drv.outputs.get('out')!.path;
    const cache = await makeCache([topOut, depOut]);
    const started: string[] = [];
    const res = await buildPaths(store, built(top.drvPath), {
      substitute: hookFor(store, cache, []),
      onStart: (j) => started.push(j.drvPath),
    });
    assert.deepEqual(started, [top.drvPath]);
    assert.equal(res.results.get(dep.drvPath)!.status, BuildStatus.Substituted);
    assert.equal(res.results.get(top.drvPath)!.status, BuildStatus.Built);
    await store.close();
  });

  it('substitutes missing opaque paths, and names the path no substituter has', async () => {
    const cache = await makeCache([pair.depOut]);
    const store = consumer();
    const log: string[] = [];
    const res = await buildPaths(store, [{ kind: 'opaque', path: pair.depOut }], {
      substitute: hookFor(store, cache, log),
    });
    assert.equal(res.results.size, 0);
    assert.ok(store.isValidPathSync(pair.depOut));
    assert.equal(log.length, 1);
    const e = await buildPaths(store, [{ kind: 'opaque', path: pair.topOut }], {
      substitute: hookFor(store, cache, log),
    }).catch((x: unknown) => x);
    assert.ok(e instanceof BuildError);
    assert.equal(e.message, `build of '${pair.topOut}' failed`);
    await store.close();
  });

  describe('a tampered cache', () => {
    let cache: string;
    before(async () => {
      cache = await makeCache([pair.topOut, pair.depOut]);
      // Same size, other contents: the NAR still parses but its hash is not the narinfo's.
      for (const f of readdirSync(join(cache, 'nar'))) {
        const p = join(cache, 'nar', f);
        const nar = readFileSync(p);
        const i = nar.indexOf('top-output');
        if (i >= 0)
          writeFileSync(p, Buffer.concat([nar.subarray(0, i), Buffer.from('TOP'), nar.subarray(i + 3)]));
      }
    });

    it('fails the derivation with the reason, building nothing, without fallback', async () => {
      const store = consumer();
      addPair(store, topSpec);
      const log: string[] = [];
      const started: string[] = [];
      const e = await buildPaths(store, built(pair.topDrv), {
        substitute: hookFor(store, cache, log),
        onStart: (j) => started.push(j.drvPath),
      }).catch((x: unknown) => x);
      assert.ok(e instanceof BuildError, String(e));
      assert.equal(e.exitCode, 1);
      assert.deepEqual(started, []);
      const r = e.results!.get(pair.topDrv)!;
      assert.equal(r.status, BuildStatus.TransientFailure);
      assert.match(
        r.errorMsg,
        new RegExp(
          `^some substitutes for the outputs of derivation '${pair.topDrv}' failed: cannot fetch '${pair.topOut}': file '.*' does not match its narinfo's FileHash; try '--fallback' to build derivation from source$`,
        ),
      );
      assert.equal(store.isValidPathSync(pair.topOut), false);
      await store.close();
    });

    it('builds from source with fallback', async () => {
      const store = consumer();
      addPair(store, topSpec);
      const started: string[] = [];
      const res = await buildPaths(store, built(pair.topDrv), {
        substitute: hookFor(store, cache, []),
        fallback: true,
        onStart: (j) => started.push(j.drvPath),
      });
      assert.deepEqual(started, [pair.topDrv]);
      assert.equal(res.results.get(pair.topDrv)!.status, BuildStatus.Built);
      assert.equal(res.results.get(pair.depDrv)!.status, BuildStatus.Substituted);
      assert.equal(readFileSync(store.toRealPath(pair.topOut), 'utf8'), 'dep-output\ntop-output\n');
      await store.close();
    });
  });
});
