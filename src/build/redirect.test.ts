import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fallbackOutputPath, redirectOutputs, rewriteTree } from './redirect.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-redirect-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const drvPath = '/nix/store/7v1qs95qllc6svg28laj9sijfnaa7b43-multi.drv';
const out = '/nix/store/p7ifmjbmlqcdf0shcbiil615vjk752wn-multi';
const dev = '/nix/store/mmfx3v51jxigdpdfwfnxgy919qz73qvh-multi-dev';

test('a fallback path keeps the name, differs per output and per derivation', () => {
  const f = fallbackOutputPath(drvPath, dev, '/nix/store');
  assert.match(f, /^\/nix\/store\/[0-9a-z]{32}-multi-dev$/);
  assert.notEqual(f, dev);
  assert.notEqual(f, fallbackOutputPath(drvPath, out, '/nix/store'));
  assert.notEqual(f, fallbackOutputPath(drvPath.replace('7v1', '8v1'), dev, '/nix/store'));
  assert.equal(f, fallbackOutputPath(drvPath, dev, '/nix/store'));
});

test('redirected hash parts go both ways; rewriteTree puts the originals back everywhere', async () => {
  const drv = {
    outputs: new Map([
      ['out', { path: out }],
      ['dev', { path: dev }],
    ]),
  };
  const r = redirectOutputs(drvPath, drv, ['out'], '/nix/store');
  const fallback = r.paths.get('out')!;
  assert.equal(r.paths.size, 1);
  const [fromHash, toHash] = [...r.toFallback][0]!;
  assert.equal(fromHash, out.slice(11, 43));
  assert.equal(toHash, fallback.slice(11, 43));
  assert.deepEqual([...r.toOriginal], [[toHash, fromHash]]);

  const tree = join(tmp, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'sub', 'ref'), `see ${fallback}/bin and ${dev}\n`);
  symlinkSync(`${fallback}/lib`, join(tree, 'link'));
  await rewriteTree(tree, r.toOriginal);
  assert.equal(readFileSync(join(tree, 'sub', 'ref'), 'utf8'), `see ${out}/bin and ${dev}\n`);
  assert.equal(readlinkSync(join(tree, 'link')), `${out}/lib`);
  // Nothing to rewrite, or no tree: nothing happens.
  await rewriteTree(tree, r.toOriginal);
  await rewriteTree(join(tmp, 'missing'), r.toOriginal);
});
