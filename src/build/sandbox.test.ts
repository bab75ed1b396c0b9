import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hashBytes, printHash } from '../formats/hash.js';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { buildDerivationLocally, type LocalBuildOptions } from './build-one.js';
import { exitCodeFor } from './errors.js';
import { defaultSandboxPaths, isStaticElf, parseSandboxPaths, searchableBy, useSandbox } from './sandbox.js';
import {
  addTestDerivation,
  openTixStore,
  removeDir,
  sandboxSkipReason,
  type TestDrvSpec,
  tempDir,
} from './test-support.js';

const skip = sandboxSkipReason();

test('sandbox-paths syntax', () => {
  assert.deepEqual(parseSandboxPaths(['/bin/sh=/bin/busybox', '/usr?', '']), [
    { target: '/bin/sh', source: '/bin/busybox', optional: false },
    { target: '/usr', source: '/usr', optional: true },
  ]);
  assert.equal(useSandbox('relaxed', { fixedOutput: true, noChroot: false }), false);
  assert.equal(useSandbox('relaxed', { fixedOutput: false, noChroot: false }), true);
  assert.equal(useSandbox('true', { fixedOutput: true, noChroot: false }), true);
  assert.equal(useSandbox('false', { fixedOutput: false, noChroot: false }), false);
  assert.ok(defaultSandboxPaths()[0]!.startsWith('/bin/sh'));
});

test('searchableBy checks the owner, group or other search bit of every directory up to /', () => {
  const dirs: Record<string, { mode: number; uid: number; gid: number }> = {
    '/': { mode: 0o755, uid: 0, gid: 0 },
    '/srv': { mode: 0o750, uid: 0, gid: 30000 },
    '/srv/store': { mode: 0o1775, uid: 0, gid: 30000 },
    '/root': { mode: 0o700, uid: 0, gid: 0 },
    '/root/store': { mode: 0o755, uid: 0, gid: 0 },
    '/home': { mode: 0o755, uid: 0, gid: 0 },
    '/home/u': { mode: 0o705, uid: 872415232, gid: 0 },
  };
  const stat = (p: string) => {
    const st = dirs[p];
    if (!st) throw new Error(`ENOENT: ${p}`);
    return st;
  };
  // Group bits for a member of the group, others' bits for anyone else.
  assert.equal(searchableBy('/srv/store', 872415232, 30000, stat), true);
  assert.equal(searchableBy('/srv/store', 872415232, 100, stat), false);
  assert.equal(searchableBy('/root/store', 872415232, 30000, stat), false);
  // The owner's bits count for the owner, even where others' would allow.
  assert.equal(searchableBy('/home/u', 872415232, 0, stat), true);
  assert.equal(searchableBy('/home/u', 1, 1, stat), true);
  dirs['/home/u']!.mode = 0o605;
  assert.equal(searchableBy('/home/u', 872415232, 0, stat), false);
  assert.equal(searchableBy('/nonexistent/dir', 0, 0, stat), false);
});

test('a static ELF is told from one with an interpreter by its program headers', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tix-elf-'));
  try {
    /** A 64-bit ELF header followed by program headers of the given types (at offset 64). */
    const elf = (types: number[]): Buffer => {
      const b = Buffer.alloc(64 + 56 * types.length);
      b.writeUInt32BE(0x7f454c46, 0);
      b[4] = 2;
      b.writeBigUInt64LE(64n, 32);
      b.writeUInt16LE(56, 54);
      b.writeUInt16LE(types.length, 56);
      for (const [i, t] of types.entries()) b.writeUInt32LE(t, 64 + 56 * i);
      return b;
    };
    const file = (name: string, bytes: Buffer) => {
      writeFileSync(join(tmp, name), bytes);
      return join(tmp, name);
    };
    assert.equal(isStaticElf(file('static', elf([6, 1, 1]))), true);
    assert.equal(isStaticElf(file('dynamic', elf([6, 3, 1]))), false);
    assert.equal(isStaticElf(file('cut', elf([6, 1]).subarray(0, 100))), false);
    assert.equal(isStaticElf(file('script', Buffer.from('#!/bin/sh\n'.padEnd(80)))), false);
    assert.equal(isStaticElf(process.execPath), false);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

let dir: string;
let store: LocalStore;
let server: Server;
let port: number;

before(async () => {
  if (skip) return;
  dir = tempDir('sandbox');
  store = openTixStore(dir);
  server = createServer((_req, res) => res.end('hello\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  if (skip) return;
  server.close();
  await store.close();
  removeDir(dir);
});

async function build(spec: TestDrvSpec, opts: LocalBuildOptions = {}) {
  const { drvPath, drv } = addTestDerivation(store, spec);
  const r = await buildDerivationLocally(store, drvPath, drv, opts);
  const out = drv.outputs.get('out')!.path;
  const text = () => readFileSync(store.toRealPath(out), 'utf8');
  return { r, drvPath, drv, out, text };
}

test('a builder sees its input closure but no other store path', { skip }, async () => {
  const secret = store.addTextToStoreSync('secret', 'top secret\n', []);
  const script = `cat ${secret} > $out 2>/dev/null || echo unreadable > $out; echo ${secret} > $out.ref`;
  const without = await build({ name: 'peek', script });
  assert.equal(without.r.status, BuildStatus.Built, without.r.errorMsg);
  assert.equal(without.text(), 'unreadable\n');
  assert.deepEqual(store.queryPathInfoSync(without.out)!.references, []);
  const withIt = await build({
    name: 'peek2',
    script: `${script}; cat $out.ref >> $out`,
    inputSrcs: [secret],
  });
  assert.equal(withIt.text(), `top secret\n${secret}\n`);
  assert.deepEqual(store.queryPathInfoSync(withIt.out)!.references, [secret]);
});

test('the sandbox root holds only what Nix 2.8 shows; no /root or /home', { skip }, async () => {
  const { r, text } = await build({
    name: 'root-view',
    script:
      'ls -a / > $out; test -e /root/. && echo ROOT >> $out; test -e /home/. && echo HOME >> $out; id >> $out; hostname >> $out; true',
  });
  assert.equal(r.status, BuildStatus.Built, r.errorMsg);
  assert.match(
    text(),
    /^\.\n\.\.\nbin\nbuild\ndev\netc\nnix\nproc\ntmp\nuid=1000\(nixbld\) gid=100\(nixbld\).*\nlocalhost\n$/,
  );
});

test('no network for ordinary derivations', { skip }, async () => {
  const { r, text } = await build({
    name: 'net',
    script: `wget -q -T 2 -O - http://127.0.0.1:${port}/ > $out 2>/dev/null && echo reached >> $out || echo blocked > $out`,
  });
  assert.equal(r.status, BuildStatus.Built, r.errorMsg);
  assert.equal(text(), 'blocked\n');
});

test('a fixed-output derivation reaches the network and its hash is checked', { skip }, async () => {
  const hash = printHash(hashBytes('sha256', 'hello\n'), 'base16');
  const { r, text, out } = await build({
    name: 'fetch',
    script: `wget -q -O $out http://127.0.0.1:${port}/`,
    fixed: { hashAlgo: 'sha256', hash },
  });
  assert.equal(r.status, BuildStatus.Built, r.errorMsg);
  assert.equal(text(), 'hello\n');
  assert.equal(
    store.queryPathInfoSync(out)!.ca,
    'fixed:sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq',
  );
});

test("hash mismatch: Nix's message, OutputRejected, exit code 102, path registered under the real hash", {
  skip,
}, async () => {
  const hash = printHash(hashBytes('sha256', 'hello\n'), 'base16');
  const { r, drvPath } = await build({
    name: 'fodbad',
    script: 'echo bye > $out',
    fixed: { hashAlgo: 'sha256', hash },
  });
  assert.equal(r.status, BuildStatus.OutputRejected);
  assert.equal(
    r.errorMsg,
    `hash mismatch in fixed-output derivation '${drvPath}':\n  specified: sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\n     got:    sha256-q8b9WV/AedMRTUtxpNhLHR0Ped8ecPiBMhLypl2JFt8=`,
  );
  assert.equal(exitCodeFor([r]), 102);
  const valid = (await store.queryValidPaths([])).size; // store still usable
  assert.equal(valid, 0);
});

test('max-silent-time kills the whole build', { skip }, async () => {
  const t0 = Date.now();
  const { r, drvPath } = await build(
    { name: 'silent', script: 'echo hi; sleep 30 & sleep 30; echo > $out' },
    { maxSilentTime: 1 },
  );
  assert.equal(r.status, BuildStatus.TimedOut);
  assert.equal(
    r.errorMsg,
    `building of '${drvPath}!out' from .drv file timed out after 1 seconds of silence`,
  );
  assert.equal(exitCodeFor([r]), 101);
  assert.ok(Date.now() - t0 < 10_000);
});

test('timeout kills a chatty build', { skip }, async () => {
  const { r, drvPath } = await build(
    { name: 'chatty', script: 'while true; do echo tick; sleep 0.2; done' },
    { timeout: 1 },
  );
  assert.equal(r.status, BuildStatus.TimedOut);
  assert.equal(r.errorMsg, `building of '${drvPath}!out' from .drv file timed out after 1 seconds`);
});

test('a builder that produces no output is rejected as in 2.8', { skip }, async () => {
  const { r, drvPath, out } = await build({ name: 'noout', script: 'echo' });
  assert.equal(r.status, BuildStatus.OutputRejected);
  assert.match(
    r.errorMsg,
    new RegExp(
      `^builder for '${drvPath}' failed to produce output path for output 'out' at '.*${out.slice(11)}'$`,
    ),
  );
  assert.equal(exitCodeFor([r]), 1);
});

test('logs go to the log file and to the callback, line by line', { skip }, async () => {
  const lines: string[] = [];
  const { r, drvPath } = await build(
    { name: 'logs', script: 'echo one; echo two >&2; printf "x\\ry"; echo > $out' },
    { onLogLine: (l) => lines.push(l) },
  );
  assert.equal(r.status, BuildStatus.Built);
  assert.deepEqual(lines, ['one', 'two', 'y']);
  assert.equal(readFileSync(store.buildLogPath(drvPath), 'utf8'), 'one\ntwo\nx\ry');
});

test('sandbox=false on a chroot-style store: host files visible, outputs in the store', {
  skip,
}, async () => {
  const hostFile = join(dir, 'host.txt');
  writeFileSync(hostFile, 'from the host\n');
  // As root the builder runs as a build user, which must be able to reach the file.
  chmodSync(dir, 0o755);
  const { r, text } = await build(
    { name: 'nosandbox', script: `PATH=/bin:/usr/bin; cat ${hostFile} > $out; echo $NIX_BUILD_TOP >> $out` },
    { sandbox: 'false' },
  );
  assert.equal(r.status, BuildStatus.Built, r.errorMsg);
  const [first, top] = text().split('\n');
  assert.equal(first, 'from the host');
  // Named as Nix 2.8 names it: the first free of -0, -1, … (what an unsandboxed build records).
  assert.match(top!, /^\/[^ ]*\/nix-build-nosandbox\.drv-[0-9]+$/);
});
