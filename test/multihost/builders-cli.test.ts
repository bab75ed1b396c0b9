// `tix builders list`, `tix builders check` and `tix copy --to/--from ssh://…` against real sshd
// hosts of both flavours.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/run-cli.test-util.js';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason } from '../harness/nix-client.js';
import { Client } from './support.js';

const skip = multiHostSkipReason();

describe('builders and copy commands', { skip }, () => {
  let harness: Harness;
  let tixHost: Host;
  let nixHost: Host;
  let client: Client;
  const tix = (args: string[]) =>
    runCli(['--store', client.storeUri, ...args], { cwd: join(client.dir, 'cwd'), env: client.env });
  before(async () => {
    harness = Harness.create();
    [tixHost, nixHost] = await Promise.all([
      harness.startHost({ flavour: 'tix', name: 'cli-tix' }),
      harness.startHost({ flavour: 'nix', name: 'cli-nix' }),
    ]);
    client = new Client(harness);
  });
  after(async () => {
    client.close();
    await harness.close();
  });

  test('builders check: every step passes on a tix and a Nix 2.8 builder', async () => {
    const spec = `${tixHost.machinesLine()} ; ${nixHost.machinesLine({ maxJobs: 2 })}`;
    const r = await tix(['builders', 'check', '--json', '--builders', spec]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = JSON.parse(r.stdout) as { uri: string; steps: { step: string; ok: boolean }[] }[];
    assert.deepEqual(
      got.map((m) => m.uri),
      [tixHost.uri, nixHost.uri],
    );
    for (const m of got) {
      assert.deepEqual(
        m.steps.map((s) => [s.step, s.ok]),
        ['connect', 'host key', 'auth', 'remote program', 'upload', 'build', 'download'].map((s) => [
          s,
          true,
        ]),
      );
    }
    const text = await tix(['builders', 'check', '--builders', spec, 'cli-nix']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ssh:\/\/cli-nix\n {2}pass {2}connect /);
    assert.match(text.stdout, /pass {2}remote program {2}speaks serve protocol 2\.7\n/);
    assert.ok(!text.stdout.includes('cli-tix'));
  });

  test('builders check names the failing step: host key, remote program, connection', async () => {
    const fields = tixHost.machinesLine().split(' ');
    fields[7] = nixHost.hostKeyBase64;
    const badKey = fields.join(' ');
    const badProgram = nixHost
      .machinesLine()
      .replace('ssh://cli-nix', 'ssh://cli-nix?remote-program=/no/such/program');
    const r = await tix(['builders', 'check', '--json', '--builders', `${badKey}\n${badProgram}`]);
    assert.equal(r.code, 1);
    const [k, p] = JSON.parse(r.stdout) as {
      steps: { step: string; ok: boolean | null; detail: string }[];
    }[];
    const failed = (m: typeof k) => m!.steps.find((s) => s.ok === false)!;
    assert.equal(failed(k).step, 'host key');
    assert.equal(failed(k).detail, "host key of 'cli-tix' does not match the pinned key");
    assert.deepEqual(
      k!.steps.map((s) => s.ok),
      [true, false, null, null, null, null, null],
    );
    assert.equal(failed(p).step, 'remote program');
    assert.match(failed(p).detail, /no\/such\/program/);
  });

  test('builders list shows each machine, its state and load', async () => {
    const spec = `${tixHost.machinesLine({ maxJobs: 4, speedFactor: 2, supportedFeatures: ['kvm'] })}\nssh://nowhere.invalid`;
    const r = await tix([
      'builders',
      'list',
      '--json',
      '--option',
      'connect-timeout',
      '3',
      '--builders',
      spec,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(a!.uri, tixHost.uri);
    assert.equal(a!.maxJobs, 4);
    assert.equal(a!.speedFactor, 2);
    assert.deepEqual(a!.supportedFeatures, ['kvm']);
    assert.equal(a!.hostKeyPinned, true);
    assert.equal(a!.up, true);
    assert.equal(typeof a!.loadAverage, 'number');
    assert.equal(b!.uri, 'ssh://nowhere.invalid');
    assert.equal(b!.up, false);
    assert.match(String(b!.state), /^down: cannot connect to 'nowhere\.invalid'/);
  });

  test('tix copy-closure: --to a Nix 2.8 host (with --gzip and --include-outputs) and --from it', async () => {
    const [dep, top] = client.withStore((s) => {
      const d = s.addTextToStoreSync('cc-dep', 'dependency\n', []);
      return [d, s.addTextToStoreSync('cc-top', `depends on ${d}\n`, [d])];
    });
    const up = await tix(['copy-closure', '--gzip', nixHost.name, top!]);
    assert.equal(up.code, 0, up.stderr);
    const there = await nixHost.run(
      `nix-store --check-validity ${dep} ${top} && nix-store -q --references ${top}`,
    );
    assert.equal(there.stdout, `${dep}\n`, there.stderr);
    // A derivation and, with --include-outputs, its output (built here).
    const [drv] = client.addDerivations([{ name: 'cc-built', script: 'echo built > $out' }]);
    const built = await client.build([drv!]);
    assert.equal(built.code, 0, built.stderr);
    const out = built.stdout.trim();
    const withOut = await tix(['copy-closure', '--to', '--include-outputs', nixHost.name, drv!]);
    assert.equal(withOut.code, 0, withOut.stderr);
    assert.match(withOut.stderr, new RegExp(`copying path '${out}'`));
    assert.equal((await nixHost.run(`cat ${out}`)).stdout, 'built\n');
    const made = (await nixHost.run('echo made-there > /tmp/cc; nix-store --add /tmp/cc')).stdout.trim();
    const down = await tix(['copy-closure', '--from', nixHost.name, made]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(
      client.withStore((s) => s.isValidPathSync(made)),
      true,
    );
  });

  test('tix copy --to ssh:// and --from ssh:// move closures both ways', async () => {
    const [dep, top] = client.withStore((s) => {
      const d = s.addTextToStoreSync('copy-dep', 'dependency\n', []);
      return [d, s.addTextToStoreSync('copy-top', `depends on ${d}\n`, [d])];
    });
    const up = await tix(['copy', '--to', nixHost.uri, top!]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(
      up.stderr,
      `copying path '${dep}' to '${nixHost.uri}'...\ncopying path '${top}' to '${nixHost.uri}'...\n`,
    );
    const there = await nixHost.run(`nix-store --query --references ${top}`);
    assert.equal(there.stdout, `${dep}\n`);

    const made = await nixHost.run(
      'nix-store --add /etc/hostname >/dev/null; echo remote-made > /tmp/f; nix-store --add /tmp/f',
    );
    const remotePath = made.stdout.trim();
    const other = new Client(harness);
    try {
      const down = await runCli(
        ['--store', other.storeUri, 'copy', '--no-check-sigs', '--from', tixHost.uri, remotePath],
        {
          cwd: join(other.dir, 'cwd'),
          env: other.env,
        },
      );
      // The path was made on the Nix host, so it is not on the tix host: the copy must fail there.
      assert.notEqual(down.code, 0);
      const down2 = await runCli(
        ['--store', other.storeUri, 'copy', '--no-check-sigs', '--from', nixHost.uri, remotePath],
        {
          cwd: join(other.dir, 'cwd'),
          env: other.env,
        },
      );
      assert.equal(down2.code, 0, down2.stderr);
      assert.equal(
        other.withStore((s) => s.isValidPathSync(remotePath)),
        true,
      );
    } finally {
      other.close();
    }
  });

  test('--store ssh://… (the serve protocol): store ping and path-info against a Nix 2.8 host', async () => {
    const ping = await tix(['--store', nixHost.uri, 'store', 'ping']);
    assert.deepEqual([ping.code, ping.stdout, ping.stderr], [0, '', `Store URL: ${nixHost.uri}\n`]);
    const made = await nixHost.run('echo served > /tmp/served; nix-store --add /tmp/served');
    const remotePath = made.stdout.trim();
    const info = await tix(['--store', nixHost.uri, 'path-info', remotePath]);
    assert.deepEqual([info.code, info.stdout], [0, `${remotePath}\n`]);
    const missing = await tix(['--store', nixHost.uri, 'path-info', remotePath.replace(/-served$/, '-nope')]);
    assert.equal(missing.code, 1);
    // Building is for a local or a daemon's store: a serve-protocol store says so.
    const build = await tix([
      '--store',
      nixHost.uri,
      'build',
      '--no-out-link',
      '-E',
      'derivation { name = "via-ssh"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; }',
    ]);
    assert.equal(build.code, 1);
    assert.match(
      build.stderr,
      new RegExp(`error: store '${nixHost.uri}' cannot build derivations: .*--builders\n$`),
    );
    const down = await tix(['--store', 'ssh://no-such-host-here', 'store', 'ping']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /no-such-host-here/);
  });
});
