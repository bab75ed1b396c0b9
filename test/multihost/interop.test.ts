// Remote builds across implementations over real sshd hosts: a Nix 2.8 client offloading to a tix
// builder, tix offloading to a Nix 2.8 builder, and the seed's check — a derivation whose output
// embeds the time it was built, built with --max-jobs 0 on a builder and copied back.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason, NixClient } from '../harness/nix-client.js';
import { Client, placements } from './support.js';

const skip = multiHostSkipReason();

describe('distributed builds between tix and Nix 2.8', { skip }, () => {
  let harness: Harness;
  let tixHost: Host;
  let nixHost: Host;
  before(async () => {
    harness = Harness.create();
    [tixHost, nixHost] = await Promise.all([
      harness.startHost({ flavour: 'tix', name: 'tix-builder' }),
      harness.startHost({ flavour: 'nix', name: 'nix-builder' }),
    ]);
  });
  after(() => harness.close());

  test('a time-stamped derivation built with --max-jobs 0 runs on the builder and comes back', async () => {
    const client = new Client(harness);
    try {
      const t0 = Date.now() * 1e6;
      const [drvPath] = client.addDerivations([
        {
          name: 'time-stamp',
          script: 'echo stamping on the builder; /bin/date +%s%N > $out; /bin/cat /tmp/whoami >> $out',
        },
      ]);
      await tixHost.run('echo tix-builder > /tmp/whoami');
      const r = await client.build(['--max-jobs', '0', '--builders', tixHost.machinesLine(), drvPath!]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.trim();
      assert.match(out, /^\/nix\/store\/[a-z0-9]{32}-time-stamp$/);
      // Built there: the log line carries the machine, and the output read the builder's /tmp.
      assert.equal(placements(r.stderr).get(drvPath!), tixHost.uri);
      assert.ok(r.stderr.includes(`[${tixHost.uri}] stamping on the builder\n`), r.stderr);
      // Copied back: valid in the local store with the builder's contents.
      const [stamp, who] = readFileSync(join(client.dir, 'tix', out), 'utf8')
        .trim()
        .split('\n');
      assert.equal(who, 'tix-builder');
      assert.ok(Number(stamp) >= t0 - 5e9 && Number(stamp) <= Date.now() * 1e6 + 5e9, `stamp ${stamp}`);
      assert.equal(
        client.withStore((s) => s.isValidPathSync(out)),
        true,
      );
      // The remote store has it too, and nothing was built on the machine's own /nix.
      assert.equal((await tixHost.run(`cat ${out}`)).stdout.split('\n')[0], stamp);
      assert.equal(existsSync(out), false);
    } finally {
      client.close();
    }
  });

  test('the seed\'s line with <tix>: writeText "$(date)" built remotely with --max-jobs 0, on tix and Nix builders', async () => {
    const client = new Client(harness);
    try {
      for (const host of [tixHost, nixHost]) {
        const expr = `(import <tix> {}).writeText "test-${host.name}" "$(date)"`;
        const r = await client.build(['--max-jobs', '0', '--builders', host.machinesLine(), '-E', expr]);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout.trim();
        assert.match(out, new RegExp(`^/nix/store/[a-z0-9]{32}-test-${host.name}$`));
        assert.equal([...placements(r.stderr).values()].join(), host.uri, r.stderr);
        // writeText keeps its text verbatim, as nixpkgs' does.
        assert.equal(readFileSync(join(client.dir, 'tix', out), 'utf8'), '$(date)');
        assert.equal(
          client.withStore((s) => s.isValidPathSync(out)),
          true,
        );
      }
    } finally {
      client.close();
    }
  });

  test('tix offloads to a real Nix 2.8 builder (nix-store --serve), inputs copied there', async () => {
    const client = new Client(harness);
    try {
      const [dep, top] = client.withStore((s) => {
        const src = s.addTextToStoreSync('greeting.txt', 'hello through nix\n', []);
        const a = client.addDerivations([
          { name: 'dep', script: `/bin/cat ${src} > $out`, inputSrcs: [src] },
        ])[0]!;
        const b = client.addDerivations([
          {
            name: 'top',
            script: `echo top-on-nix; read x < $dep; echo "$x" > $out; echo built >> $out`,
            env: { dep: s.readDerivation(a).outputs.get('out')!.path },
            inputDrvs: { [a]: ['out'] },
          },
        ])[0]!;
        return [a, b];
      });
      const r = await client.build(['--max-jobs', '0', '--builders', nixHost.machinesLine(), top!]);
      assert.equal(r.code, 0, r.stderr);
      const where = placements(r.stderr);
      assert.equal(where.get(dep!), nixHost.uri);
      assert.equal(where.get(top!), nixHost.uri);
      assert.ok(r.stderr.includes(`[${nixHost.uri}] top-on-nix\n`), r.stderr);
      const out = r.stdout.trim();
      assert.equal(readFileSync(join(client.dir, 'tix', out), 'utf8'), 'hello through nix\nbuilt\n');
      const valid = await nixHost.run(`nix-store --check-validity ${out} && echo ok`);
      assert.equal(valid.stdout, 'ok\n', valid.stderr);
    } finally {
      client.close();
    }
  });

  test('a real Nix 2.8 nix-build --max-jobs 0 offloads to a tix builder (tix-store --serve)', async () => {
    const nix = new NixClient(harness.env());
    try {
      const src = await nix.addFile('input.txt', 'input from the nix client\n');
      const expr = `derivation {
        name = "from-nix-client"; system = "x86_64-linux"; builder = "/bin/sh";
        args = ["-c" "echo building-on-tix; /bin/cat \${builtins.storePath "${src}"} > $out; /bin/cat /tmp/whoami >> $out"];
      }`;
      await tixHost.run('echo tix-builder > /tmp/whoami');
      const r = await nix.run(
        'nix-build',
        ['--no-out-link', '--max-jobs', '0', '--option', 'builders', tixHost.machinesLine(), '-E', expr],
        { timeoutMs: 45000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /building '\/nix\/store\/[a-z0-9]{32}-from-nix-client\.drv' on 'ssh:\/\/tix-builder\?remote-program=/,
      );
      assert.match(r.stderr, /building-on-tix/);
      const out = r.stdout.trim();
      assert.equal(readFileSync(join(nix.root, out), 'utf8'), 'input from the nix client\ntix-builder\n');
      // Nix accepted the output into its store (registered valid, with the NAR hash tix reported).
      const q = await nix.run('nix-store', ['--verify-path', out]);
      assert.equal(q.code, 0, q.stderr);
      const there = await tixHost.run(`cat ${out}`);
      assert.equal(there.stdout, 'input from the nix client\ntix-builder\n');
    } finally {
      nix.close();
    }
  });
});
