import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Harness, runProcess } from './hosts.js';
import { multiHostSkipReason, NixClient } from './nix-client.js';

const skip = multiHostSkipReason();

describe('multi-host harness', { skip }, () => {
  let harness: Harness;
  let client: NixClient;
  before(() => {
    harness = Harness.create();
    client = new NixClient(harness.env());
  });
  after(async () => {
    await harness.close();
    client.close();
  });

  test('a real Nix 2.8 client pings and copies to a nix host over ssh', async () => {
    const host = await harness.startHost({ flavour: 'nix' });
    const ping = await client.run('nix', ['store', 'ping', '--store', host.uri]);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stderr, /Store URL: ssh:\/\/tix-host-\d+/);

    const path = await client.addFile('harness-probe.txt', 'probe for the harness\n');
    const copy = await client.run('nix', ['copy', '--to', host.uri, path]);
    assert.equal(copy.code, 0, copy.stderr);
    const check = await host.run(`nix-store --check-validity ${path} && cat ${path}`);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, 'probe for the harness\n');
    // The copy landed in the host's private /nix, not the machine's.
    assert.equal(existsSync(path), false);
    assert.equal(readFileSync(host.realPath(path), 'utf8'), 'probe for the harness\n');
    await host.kill();
    const dead = await client.run('nix', ['store', 'ping', '--store', host.uri], { timeoutMs: 20000 });
    assert.notEqual(dead.code, 0);
  });

  test('two hosts run concurrently with separate /nix, /tmp and host keys', async () => {
    const [a, b] = await Promise.all([harness.startHost(), harness.startHost()]);
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.hostKey.publicKey, b.hostKey.publicKey);
    const [ra, rb] = await Promise.all([
      a.run('echo A > /nix/var/marker; echo A > /tmp/marker; sleep 0.2; cat /nix/var/marker /tmp/marker'),
      b.run('echo B > /nix/var/marker; echo B > /tmp/marker; sleep 0.2; cat /nix/var/marker /tmp/marker'),
    ]);
    assert.equal(ra.stdout, 'A\nA\n');
    assert.equal(rb.stdout, 'B\nB\n');
    // Each host has its own empty store.
    const q = await Promise.all([a, b].map((h) => h.run('ls -A /nix/store | wc -l')));
    assert.deepEqual(
      q.map((r) => r.stdout.trim()),
      ['0', '0'],
    );
    // The client config pins each host key under its alias: using b's key for a fails.
    const wrong = await runProcess('ssh', [
      ...a.sshArgs().map((x) => (x === `HostKeyAlias=${a.name}` ? `HostKeyAlias=${b.name}` : x)),
      'true',
    ]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Host key verification failed|HOST IDENTIFICATION HAS CHANGED/);
    await Promise.all([a.stop(), b.stop()]);
  });

  test('teardown kills every process of a host, including live sessions', async () => {
    const host = await harness.startHost();
    const session = runProcess('ssh', [...host.sshArgs(), 'sleep 300'], { timeoutMs: 20000 });
    const deadline = Date.now() + 10000;
    while (host.processes().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.ok(host.processes().length >= 3, `sshd, session and sleep expected: ${host.processes()}`);
    await host.kill();
    assert.deepEqual(host.processes(), []);
    assert.equal(host.alive, false);
    const r = await session;
    assert.notEqual(r.code, 0);
    assert.equal(harness.running.includes(host), false);
  });

  test('a disk-full host rejects a copy larger than its /nix', async () => {
    const host = await harness.startHost({ nixSizeBytes: 2 * 1024 * 1024 });
    const df = await host.run('df -k /nix | tail -1');
    assert.match(df.stdout, /^tix-host-nix\s+2048\s/);
    const big = await client.addFile('big.bin', new Uint8Array(3 * 1024 * 1024).fill(7));
    const copy = await client.run('nix', ['copy', '--to', host.uri, big]);
    assert.notEqual(copy.code, 0);
    assert.match(copy.stderr, /No space left on device|error/);
    const valid = await host.run(`nix-store --check-validity ${big}`);
    assert.notEqual(valid.code, 0);
    await host.kill();
  });
});
