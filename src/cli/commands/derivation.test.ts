import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../run-cli.test-util.js';

const W = '/work/shared/vectors/worked';
const DRV = {
  dep: 'p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv',
  fixed: 'bzskd547fp8gnicidypg2h9n905vrqci-fixed-hello.drv',
  top: '7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv',
};
const tmp = mkdtempSync(join(tmpdir(), 'tix-drv-'));
const store = ['--store', `local?root=${join(tmp, 'root')}`];
after(() => rmSync(tmp, { recursive: true, force: true }));

async function add(stdin: string | Buffer) {
  return runCli([...store, 'derivation', 'add'], { cwd: tmp, stdin });
}

describe('tix derivation add / show', () => {
  before(async () => {
    writeFileSync(join(tmp, 'greeting.txt'), 'Hello, Nix!\n');
    await runCli([...store, 'store', 'add', 'greeting.txt'], { cwd: tmp });
  });

  it('adds the 2.8 example derivations at their exact paths', async () => {
    for (const base of [DRV.dep, DRV.fixed, DRV.top]) {
      const r = await add(readFileSync(join(W, 'drv', base)));
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, `/nix/store/${base}\n`);
    }
  });

  it('shows them byte-exactly as nix show-derivation 2.8', async () => {
    for (const [base, json] of [
      [DRV.dep, 'show-derivation-dep.json'],
      [DRV.fixed, 'show-derivation-fixed-hello.json'],
      [DRV.top, 'show-derivation-top.json'],
    ] as const) {
      const r = await runCli([...store, 'derivation', 'show', `/nix/store/${base}`], { cwd: tmp });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, readFileSync(join(W, 'json', json), 'utf8'));
    }
  });

  it('accepts the JSON form and lands on the same path', async () => {
    const r = await add(readFileSync(join(W, 'json/show-derivation-dep.json')));
    assert.equal(r.stdout, `/nix/store/${DRV.dep}\n`);
  });

  it('rejects wrong output paths, naming the derivation', async () => {
    const text = readFileSync(join(W, 'drv', DRV.dep), 'utf8').replaceAll(
      'z4asv3j07d89ywjf8fxkn7sg6mf5s9q5',
      'z4asv3j07d89ywjf8fxkn7sg6mf5s9q6',
    );
    const r = await add(text);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: derivation '\/nix\/store\/.*-dep\.drv' has incorrect output '\/nix\/store\/z4asv3j07d89ywjf8fxkn7sg6mf5s9q6-dep': should be '\/nix\/store\/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep'\n$/,
    );
  });

  it('rejects a fixed-output path that does not match its hash (upstream vector)', async () => {
    const r = await add(readFileSync('/work/shared/vectors/derivation/bad-ca-fixed-path.drv'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*incorrect output.*\n$/);
  });

  it('rejects malformed input with the position and registers nothing', async () => {
    const cut = readFileSync(join(W, 'drv', DRV.dep), 'utf8').slice(0, 60);
    const r = await add(cut);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*<stdin>.*\n$/);
    const j = await add('{"x": ');
    assert.equal(j.code, 1);
    assert.match(j.stderr, /^error: cannot parse derivation JSON from <stdin>: .*\n$/);
    const missingInput = await add(
      readFileSync(join(W, 'drv', DRV.top), 'utf8').replaceAll(
        'hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt',
        'hyqv6qj126byaw1aasq4rvxa1lr502fq-greeting.txt',
      ),
    );
    assert.equal(missingInput.code, 1);
    assert.match(
      missingInput.stderr,
      /input source '\/nix\/store\/hyqv6qj126byaw1aasq4rvxa1lr502fq-greeting.txt' is not valid/,
    );
  });

  it('path-info on a .drv reports its outputs, which are not valid yet', async () => {
    const r = await runCli([...store, 'path-info', `/nix/store/${DRV.dep}`], { cwd: tmp });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: path '/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep' is not valid\n");
    const j = await runCli([...store, 'path-info', '--json', `/nix/store/${DRV.dep}`], { cwd: tmp });
    assert.equal(j.stdout, '[{"path":"/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep","valid":false}]');
  });
});
