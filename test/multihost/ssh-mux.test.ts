// SSH sessions to one destination share one connection (src/distribute/ssh-master.ts): concurrent
// sessions all come from the same client port, a master that went away is replaced, more than
// MAX_SESSIONS sessions spill onto a second connection, and connection errors (wrong pinned host
// key, nobody listening) still name the host; a master gets tix's keepalive and cipher defaults.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { connectMachine, prewarmMachine } from '../../src/distribute/connect.js';
import { openSshTransport, type SshTransportOptions } from '../../src/distribute/ssh.js';
import { cpuHasAes } from '../../src/distribute/ssh-defaults.js';
import { MAX_SESSIONS } from '../../src/distribute/ssh-master.js';
import type { Transport } from '../../src/distribute/transport.js';
import { parseMachines } from '../../src/formats/machines.js';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason } from '../harness/nix-client.js';

const skip = multiHostSkipReason();

async function readAll(t: Transport): Promise<string> {
  let text = '';
  for (let c = await t.input.pull(); c; c = await t.input.pull()) text += Buffer.from(c).toString();
  return text;
}

describe('ssh connection sharing', { skip }, () => {
  let harness: Harness;
  let host: Host;
  before(async () => {
    harness = Harness.create();
    host = await harness.startHost({ flavour: 'nix', name: 'mux-host' });
  });
  after(() => harness.close());

  const open = (command: string, opts: SshTransportOptions = {}, hostKey = host.hostKeyBase64) =>
    openSshTransport(
      { authority: host.name, sshKey: harness.clientKey.privateKeyFile, sshPublicHostKey: hostKey },
      command,
      { sshOpts: ['-F', harness.sshConfigFile], ...opts },
    );
  /** The client port of each session's connection ($SSH_CONNECTION: client ip, port, server ip, port). */
  const clientPorts = async (n: number, opts: SshTransportOptions = {}) => {
    // Each session stays open until all have started, so that they really run at the same time.
    const ts = Array.from({ length: n }, () => open('echo $SSH_CONNECTION; sleep 0.3', opts));
    const out = await Promise.all(ts.map(readAll));
    await Promise.all(ts.map((t) => t.close()));
    return out.map((line) => line.trim().split(' ')[1]);
  };

  test('concurrent sessions share one connection; without multiplexing each has its own', async () => {
    const shared = await clientPorts(4);
    assert.equal(new Set(shared).size, 1, `ports ${shared}`);
    const again = await clientPorts(2);
    assert.deepEqual(again, [shared[0], shared[0]], 'a later session reuses the same master');
    const own = await clientPorts(3, { multiplex: false });
    assert.equal(new Set(own).size, 3, `ports ${own}`);
    assert.ok(!own.includes(shared[0]));
  });

  test(`more than ${MAX_SESSIONS} concurrent sessions spill onto a second connection`, async () => {
    const ports = await clientPorts(MAX_SESSIONS + 2);
    const counts = new Map<string | undefined, number>();
    for (const p of ports) counts.set(p, (counts.get(p) ?? 0) + 1);
    assert.deepEqual(
      [...counts.values()].sort((a, b) => a - b),
      [2, MAX_SESSIONS],
    );
  });

  test('a master that went away is started again', async () => {
    const [before] = await clientPorts(1);
    // Stop every master of this process: the control sockets live in its private directory.
    const masters = spawnSync('pgrep', ['-f', 'ControlMaster=yes.*mux-host']).stdout.toString().trim();
    assert.notEqual(masters, '');
    for (const pid of masters.split('\n')) process.kill(Number(pid), 'SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const [after] = await clientPorts(1);
    assert.ok(after && after !== before, `${before} then ${after}`);
  });

  test('a session closed while its connection is being set up ends at once, without running', async () => {
    // Distinct options make a distinct connection, so this one starts a master of its own.
    const t = open('touch /tmp/ran-anyway', {
      sshOpts: ['-F', harness.sshConfigFile, '-o', 'ServerAliveInterval=7'],
    });
    const t0 = Date.now();
    await t.close();
    assert.ok(Date.now() - t0 < 100, `close took ${Date.now() - t0} ms`);
    assert.deepEqual(await t.exited, { code: null, signal: null });
    assert.equal(await t.input.pull(), null);
    const check = await clientPorts(1, {
      sshOpts: ['-F', harness.sshConfigFile, '-o', 'ServerAliveInterval=7'],
    });
    assert.equal(check.length, 1);
    assert.equal((await host.run('test -e /tmp/ran-anyway; echo $?')).stdout.trim(), '1');
  });

  test("the connection gets a keepalive, and AES-GCM first on a CPU with AES, where the user's config sets neither", async () => {
    // ConnectionAttempts=2 makes the connection distinct from the others.
    const opts = { sshOpts: ['-F', harness.sshConfigFile, '-o', 'ConnectionAttempts=2'] };
    await clientPorts(1, opts);
    const master = spawnSync('pgrep', ['-a', '-f', 'ConnectionAttempts=2.*ControlMaster=yes.*mux-host'])
      .stdout.toString()
      .trim();
    assert.match(master, /^\d+ ssh /);
    assert.match(master, / -o ServerAliveInterval=15 -o ServerAliveCountMax=4 /);
    const aes = cpuHasAes(readFileSync('/proc/cpuinfo', 'utf8'));
    assert.equal(
      / -o Ciphers=aes128-gcm@openssh\.com,aes256-gcm@openssh\.com,chacha20/.test(master),
      aes,
      master,
    );
  });

  test('a wrong pinned host key and a dead host fail with the host named', async () => {
    const other = await harness.startHost({ flavour: 'nix', name: 'mux-other' });
    const wrong = open('true', {}, other.hostKeyBase64);
    assert.equal(await readAll(wrong), '');
    await wrong.exited;
    assert.equal(wrong.explainFailure()?.code, 'HOST_KEY');
    await wrong.close();
    await other.stop();
    const dead = openSshTransport(
      { authority: other.name, sshKey: harness.clientKey.privateKeyFile },
      'true',
      { sshOpts: ['-F', harness.sshConfigFile] },
    );
    assert.equal(await readAll(dead), '');
    const err = dead.explainFailure();
    assert.equal(err?.code, 'CONNECTION');
    assert.match(err!.message, /^cannot connect to 'mux-other'/);
    await assert.rejects(dead.output.write(new Uint8Array(8)));
    await dead.close();
    // Prewarming a dead machine settles without an error: its first real session reports it.
    const [deadMachine] = parseMachines(other.machinesLine(), { localSystem: 'x86_64-linux' });
    await prewarmMachine(deadMachine!, { env: { ...process.env, ...harness.env() }, connectTimeout: 3 });
  });

  test("a machine's connection started ahead is the one its first session uses", async () => {
    // ConnectTimeout=9 makes the connection distinct from those of the tests above.
    const mastersNow = () =>
      spawnSync('pgrep', ['-f', 'ConnectTimeout=9.*ControlMaster=yes.*mux-host']).stdout.toString().trim();
    assert.equal(mastersNow(), '');
    const [m] = parseMachines(host.machinesLine(), { localSystem: 'x86_64-linux' });
    await prewarmMachine(m!, { env: { ...process.env, ...harness.env() }, connectTimeout: 9 });
    const master = mastersNow();
    assert.match(master, /^\d+$/, 'one master after prewarming');
    const store = await connectMachine(m!, { env: { ...process.env, ...harness.env() }, connectTimeout: 9 });
    try {
      assert.deepEqual([...(await store.queryValidPaths([]))], []);
      assert.equal(mastersNow(), master, 'the session used the prewarmed master');
    } finally {
      await store.close();
    }
  });
});
