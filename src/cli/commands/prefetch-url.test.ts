// `tix prefetch-url` against nix-prefetch-url of Nix 2.8, in the same run: hashes, paths, messages
// and exit codes for file:// and http:// (a server on 127.0.0.1), flat and --unpack.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-prefetch-'));
/** A static file server on 127.0.0.1 in its own process (runNix blocks this one's event loop). */
let server: ChildProcess;
let base = '';
before(async () => {
  const code = `const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
    const s = http.createServer((q, r) => {
      const f = path.join(process.argv[1], q.url.slice(1).replace(/[?].*$/, ''));
      if (!fs.existsSync(f)) return r.writeHead(404).end();
      r.writeHead(200).end(fs.readFileSync(f));
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  server = spawn(process.execPath, ['-e', code, join(tmp, 'www')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    server.stdout!.once('data', (d) => resolve(String(d).trim())),
  );
  base = `http://127.0.0.1:${port}`;
});
after(() => {
  server.kill();
  rmSync(tmp, { recursive: true, force: true });
});

mkdirSync(join(tmp, 'www', 'pkgs-1.0'), { recursive: true });
writeFileSync(join(tmp, 'www', 'hello.txt'), 'hello, prefetch\n');
writeFileSync(join(tmp, 'www', 'pkgs-1.0', 'default.nix'), '{ }\n');
execFileSync('tar', ['-czf', join(tmp, 'www', 'pkgs.tar.gz'), '-C', join(tmp, 'www'), 'pkgs-1.0']);

async function same(args: string[], opts: { stderr?: boolean } = {}) {
  const ours = await runCliOnStore(tmp, 'tix-root', ['prefetch-url', ...args]);
  const theirs = runNix(tmp, 'nix-prefetch-url', args);
  const what = args.join(' ');
  assert.equal(ours.code, theirs.status, `${what}: ${ours.stderr} / ${theirs.stderr}`);
  assert.equal(ours.stdout, theirs.stdout.toString(), what);
  if (opts.stderr !== false) assert.equal(ours.stderr, theirs.stderr, what);
  return ours;
}

test('prints what nix-prefetch-url 2.8 prints', { skip: noNix }, async () => {
  const file = `file://${join(tmp, 'www', 'hello.txt')}`;
  const first = await same([file]);
  assert.match(first.stdout, /^[0-9a-z]{52}\n$/);
  await same(['--type', 'sha1', '--print-path', file]);
  await same(['--name', 'renamed', '--type', 'sha512', file]);
  await same(['--executable', file]);
  await same(['--unpack', `file://${join(tmp, 'www', 'pkgs.tar.gz')}`]);
  await same([`${base}/hello.txt`]);
  await same(['--unpack', '--print-path', `${base}/pkgs.tar.gz`]);
  await same([`file://${join(tmp, 'www', 'nothere.txt')}`]);
  // The name is the URL's base name as it is: a query stays in it.
  await same([`${base}/hello.txt?v=1`]);
  await same([`${base}/nothere.txt`]);
  // With the hash it already has, the path is used without downloading.
  const hash = first.stdout.trim();
  const gone = `file://${join(tmp, 'gone.txt')}`;
  writeFileSync(join(tmp, 'gone.txt'), 'hello, prefetch\n');
  await same(['--name', 'hello.txt', gone]);
  rmSync(join(tmp, 'gone.txt'));
  await same(['--name', 'hello.txt', gone, hash]);
});

test('a download of another hash fails and adds nothing', async () => {
  const file = `file://${join(tmp, 'www', 'hello.txt')}`;
  const zero = '0'.repeat(52);
  const r = await runCliOnStore(tmp, 'mismatch-root', ['prefetch-url', '--name', 'unique-name', file, zero]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`^error: hash mismatch for '${file}': expected '${zero}', got '[0-9a-z]{52}'\\n$`),
  );
  const store = join(tmp, 'mismatch-root', 'nix', 'store');
  assert.ok(!existsSync(store) || !execFileSync('ls', [store]).toString().includes('unique-name'));
});
