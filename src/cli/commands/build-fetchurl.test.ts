// builtin:fetchurl through `tix build` of <nix/fetchurl.nix>: a file over http:// and file://, an
// executable, an xz-compressed NAR unpacked into a tree, and the failures (a 404, a wrong hash).
// With Nix 2.8 installed, nix-build of the same expressions gives the same output paths and bytes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-fetchurl-'));
const files = join(tmp, 'files');
const store = ['--store', `local?root=${join(tmp, 'root')}`];
let server: ChildProcess | undefined;
let base = '';

// A static file server in a process of its own (runNix blocks this one while Nix downloads).
const SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const s = http.createServer((req, res) => {
  const f = path.join(process.argv[1], decodeURIComponent(req.url));
  fs.readFile(f, (err, data) => { if (err) { res.writeHead(404); res.end(); } else res.end(data); });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const tix = (args: string[]) =>
  runCli([...args], { cwd: tmp, env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc') } });
const fetchExpr = (attrs: string) => `import <nix/fetchurl.nix> { ${attrs} }`;

before(async () => {
  mkdirSync(files);
  writeFileSync(join(files, 'hello.txt'), 'hello from fetchurl\n');
  writeFileSync(join(files, 'tool.sh'), '#!/bin/sh\necho tool\n');
  // A NAR of a small tree, xz-compressed, made by `tix store dump` of a directory.
  mkdirSync(join(tmp, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(tmp, 'tree', 'a.txt'), 'a\n');
  writeFileSync(join(tmp, 'tree', 'sub', 'b.txt'), 'b\n');
  const dump = await runCli(['store', 'dump', join(tmp, 'tree')], { cwd: tmp });
  assert.equal(dump.code, 0, dump.stderr);
  writeFileSync(join(files, 'tree.nar'), dump.out);
  spawnSync('xz', ['-k', join(files, 'tree.nar')]);
  server = spawn(process.execPath, ['-e', SERVER, files], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    server!.stdout!.once('data', (d) => resolve(`${d}`.trim())),
  );
  base = `http://127.0.0.1:${port}`;
});

after(() => {
  server?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

describe('builtin:fetchurl', () => {
  it('downloads a file over http:// and file://, as Nix 2.8 does', async () => {
    const hash = sha256('hello from fetchurl\n');
    for (const url of [`${base}/hello.txt`, `file://${join(files, 'hello.txt')}`]) {
      const r = await tix([
        'build',
        ...store,
        '--no-out-link',
        '-E',
        fetchExpr(`url = "${url}"; sha256 = "${hash}";`),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.trim();
      assert.match(out, /^\/nix\/store\/[a-z0-9]{32}-hello\.txt$/);
      assert.equal(readFileSync(join(tmp, 'root', out), 'utf8'), 'hello from fetchurl\n');
    }
  });

  it('matches Nix 2.8: same output path and bytes (http://)', { skip: noNix }, async () => {
    const expr = fetchExpr(`url = "${base}/hello.txt"; sha256 = "${sha256('hello from fetchurl\n')}";`);
    const r = await tix(['build', ...store, '--no-out-link', '-E', expr]);
    const nix = runNix(tmp, 'nix-build', ['--no-out-link', '-E', expr]);
    assert.equal(nix.status, 0, nix.stderr);
    assert.equal(r.stdout.trim(), nix.stdout.toString().trim());
    assert.deepEqual(
      readFileSync(join(tmp, 'root', r.stdout.trim())),
      readFileSync(join(tmp, 'nix-root', nix.stdout.toString().trim())),
    );
  });

  it('executable = true makes an executable file (recursive hash)', { skip: noNix }, async () => {
    // The recursive hash of the executable file: computed by Nix 2.8 from a copy with mode 0755.
    const copy = join(tmp, 'tool-copy');
    writeFileSync(copy, readFileSync(join(files, 'tool.sh')), { mode: 0o755 });
    const h = spawnSync('nix-hash', ['--type', 'sha256', '--base32', copy], {
      encoding: 'utf8',
    }).stdout.trim();
    const expr = fetchExpr(`url = "${base}/tool.sh"; sha256 = "${h}"; executable = true;`);
    const r = await tix(['build', ...store, '--no-out-link', '-E', expr]);
    assert.equal(r.code, 0, r.stderr);
    const st = lstatSync(join(tmp, 'root', r.stdout.trim()));
    assert.equal(st.mode & 0o777, 0o555);
    const nix = runNix(tmp, 'nix-build', ['--no-out-link', '-E', expr]);
    assert.equal(nix.status, 0, nix.stderr);
    assert.equal(r.stdout.trim(), nix.stdout.toString().trim());
  });

  it('unpack = true restores an xz-compressed NAR into a tree', { skip: noNix }, async () => {
    const h = spawnSync('nix-hash', ['--type', 'sha256', '--base32', join(tmp, 'tree')], {
      encoding: 'utf8',
    }).stdout.trim();
    const expr = fetchExpr(`url = "${base}/tree.nar.xz"; sha256 = "${h}"; unpack = true; name = "tree";`);
    const r = await tix(['build', ...store, '--no-out-link', '-E', expr]);
    assert.equal(r.code, 0, r.stderr);
    const out = join(tmp, 'root', r.stdout.trim());
    assert.equal(readFileSync(join(out, 'sub', 'b.txt'), 'utf8'), 'b\n');
    const nix = runNix(tmp, 'nix-build', ['--no-out-link', '-E', expr]);
    assert.equal(nix.status, 0, nix.stderr);
    assert.equal(r.stdout.trim(), nix.stdout.toString().trim());
  });

  it('hashed-mirrors are tried first for a flat output', async () => {
    const text = 'from the mirror\n';
    mkdirSync(join(files, 'mirror', 'sha256'), { recursive: true });
    writeFileSync(join(files, 'mirror', 'sha256', sha256(text)), text);
    const r = await runCli(
      [
        'build',
        ...store,
        '--no-out-link',
        '-E',
        fetchExpr(`url = "${base}/not-there.txt"; sha256 = "${sha256(text)}";`),
      ],
      {
        cwd: tmp,
        env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_CONFIG: `hashed-mirrors = ${base}/mirror` },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(tmp, 'root', r.stdout.trim()), 'utf8'), text);
  });

  it('a missing file and a wrong hash fail with what happened', async () => {
    const missing = await tix([
      'build',
      ...store,
      '--no-out-link',
      '-E',
      fetchExpr(`url = "${base}/nope.txt"; sha256 = "${sha256('x')}";`),
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr,
      /builder for '\/nix\/store\/[a-z0-9]{32}-nope\.txt\.drv' failed with exit code 1/,
    );
    // The download's error is build output, shown as it happens (so not repeated in the failure).
    assert.match(
      missing.stderr,
      /^error: unable to download 'http:\/\/127\.0\.0\.1:\d+\/nope\.txt': HTTP error 404 \('Not Found'\)$/m,
    );
    const wrong = await tix([
      'build',
      ...store,
      '--no-out-link',
      '-E',
      fetchExpr(`url = "${base}/hello.txt"; sha256 = "${sha256('something else')}"; name = "wrong";`),
    ]);
    assert.equal(wrong.code, 102, wrong.stderr);
    assert.match(
      wrong.stderr,
      /hash mismatch in fixed-output derivation '\/nix\/store\/[a-z0-9]{32}-wrong\.drv':/,
    );
  });
});
