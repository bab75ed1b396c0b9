// kill -9 of `tix store add` (a tree of many files) and of builds, at random moments, several at
// once: after every kill the store is verify-clean, and redoing the work succeeds.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { buildDerivationLocally } from './build-one.js';
import { addTestDerivation, openTixStore, removeDir, sandboxSkipReason, tempDir } from './test-support.js';

const skip = sandboxSkipReason();
const here = fileURLToPath(import.meta.url);
const addChild = join(here, '..', `test-child-add${extname(here)}`);
const buildChild = join(here, '..', `test-child${extname(here)}`);
const RUNS = process.env.TIX_SOAK === '1' ? 60 : 20;

let dir: string;
let store: LocalStore;

before(() => {
  if (skip) return;
  dir = tempDir('crash-import');
  store = openTixStore(dir);
});

after(async () => {
  if (skip) return;
  await store.close();
  removeDir(dir);
});

/** A tree of 150 files of 4 KiB in 15 directories, unique per `tag`. */
function makeTree(tag: string): string {
  const root = join(dir, 'src', tag);
  for (let d = 0; d < 15; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    for (let f = 0; f < 10; f++)
      writeFileSync(join(root, `d${d}`, `f${f}`), `${tag} ${d} ${f}\n`.repeat(200));
  }
  return root;
}

function run(script: string, args: string[]): { proc: ChildProcess; done: Promise<number | string> } {
  const proc = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: 'ignore' });
  const done = new Promise<number | string>((resolve) => {
    proc.on('close', (code, signal) => resolve(signal ?? code ?? -1));
  });
  return { proc, done };
}

test('kill -9 during imports and builds leaves the store verify-clean', { skip }, async (t) => {
  const script = 'mkdir $out; i=0; while [ $i -lt 30 ]; do echo $i > $out/f$i; i=$((i+1)); done; sleep 0.05';
  // How long uninterrupted children take, so that kills land from start-up to registration.
  const t0 = Date.now();
  const first = run(addChild, [store.root, makeTree('timing')]);
  assert.equal(await first.done, 0);
  const span = Date.now() - t0;
  let interrupted = 0;
  for (let i = 0; i < RUNS; i++) {
    const tree = makeTree(`run${i}`);
    const { drvPath, drv } = addTestDerivation(store, { name: `crash-imp-${i}`, script });
    const children = [run(addChild, [store.root, tree]), run(buildChild, [store.root, drvPath])];
    await sleep(Math.floor(span * (0.3 + 0.8 * Math.random())));
    for (const c of children) c.proc.kill('SIGKILL');
    const ends = await Promise.all(children.map((c) => c.done));
    interrupted += ends.filter((e) => e === 'SIGKILL').length;
    const v = await store.verifyStore({ checkContents: true, repair: false });
    assert.deepEqual(v.errors, [], `run ${i}`);
    // Redo both: they succeed and their results are valid.
    const info = await store.addPathToStore(tree, { name: `run${i}`, method: 'recursive' });
    assert.equal(store.isValidPathSync(info.path), true);
    const r = await buildDerivationLocally(store, drvPath, drv);
    assert.ok(r.status === BuildStatus.Built || r.status === BuildStatus.AlreadyValid, r.errorMsg);
  }
  const v = await store.verifyStore({ checkContents: true, repair: false });
  assert.deepEqual(v.errors, []);
  t.diagnostic(`${interrupted} of ${2 * RUNS} children were killed before finishing`);
  assert.ok(interrupted > 0, 'no kill landed before a child finished');
});
