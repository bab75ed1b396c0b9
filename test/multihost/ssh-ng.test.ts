// ssh-ng:// builders over real sshd hosts: tix offloading to Nix 2.8's `nix-daemon --stdio` and to
// `tix-daemon --stdio`, placement over both, failover when the remote daemon process is killed
// mid-build, log streaming with the machine prefix as for ssh://; and a real Nix 2.8 client
// offloading to a tix builder through `ssh-ng://…?remote-program=…/tix-daemon`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../../src/cli/run-cli.test-util.js';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason, NixClient } from '../harness/nix-client.js';
import { Client, lostNotices, sshNgLine, sshNgUri } from './support.js';

const skip = multiHostSkipReason();
/** Every "building '…' on '…'" line of a run, in order: [drvPath, machine]. */
function placementsInOrder(stderr: string): [string, string][] {
  return [...stderr.matchAll(/^building '([^']+)' on '([^']+)'$/gm)].map((m) => [m[1]!, m[2]!]);
}

/** Pids of the host's processes whose command line contains `needle` (the remote daemons). */
function remotePids(host: Host, needle: string): number[] {
  return host.processes().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(needle);
    } catch {
      return false;
    }
  });
}

describe('ssh-ng:// remote builds', { skip }, () => {
  let harness: Harness;
  let tixHost: Host;
  let nixHost: Host;
  before(async () => {
    harness = Harness.create();
    [tixHost, nixHost] = await Promise.all([
      harness.startHost({ flavour: 'tix', name: 'tix-ng' }),
      harness.startHost({ flavour: 'nix', name: 'nix-ng' }),
    ]);
    await Promise.all([tixHost, nixHost].map((h) => h.run(`echo ${h.name} > /tmp/whoami`)));
  });
  after(() => harness.close());

  for (const flavour of ['nix', 'tix'] as const) {
    test(`tix offloads to ${flavour === 'nix' ? "Nix 2.8's nix-daemon" : 'tix-daemon'} --stdio: inputs there, log streamed, output back`, async () => {
      const host = flavour === 'nix' ? nixHost : tixHost;
      const client = new Client(harness);
      try {
        const [dep, top] = client.withStore((s) => {
          const src = s.addTextToStoreSync('ng-input.txt', `input for ${flavour}\n`, []);
          const a = client.addDerivations([
            { name: `ng-dep-${flavour}`, script: `/bin/cat ${src} > $out`, inputSrcs: [src] },
          ])[0]!;
          const b = client.addDerivations([
            {
              name: `ng-top-${flavour}`,
              script:
                'echo line-one; echo line-two; read x < $dep; echo "$x" > $out; /bin/cat /tmp/whoami >> $out',
              env: { dep: s.readDerivation(a).outputs.get('out')!.path },
              inputDrvs: { [a]: ['out'] },
            },
          ])[0]!;
          return [a, b];
        });
        const r = await client.build(['--max-jobs', '0', '--builders', sshNgLine(host), top!]);
        assert.equal(r.code, 0, r.stderr);
        const uri = sshNgUri(host);
        assert.deepEqual(placementsInOrder(r.stderr), [
          [dep!, uri],
          [top!, uri],
        ]);
        assert.ok(r.stderr.includes(`[${uri}] line-one\n[${uri}] line-two\n`), r.stderr);
        const out = r.stdout.trim();
        assert.equal(
          readFileSync(join(client.dir, 'tix', out), 'utf8'),
          `input for ${flavour}\n${host.name}\n`,
        );
        assert.equal(
          client.withStore((s) => s.isValidPathSync(out)),
          true,
        );
        const check = flavour === 'nix' ? `nix-store --check-validity ${out} && cat ${out}` : `cat ${out}`;
        const there = await host.run(check);
        assert.equal(there.stdout, `input for ${flavour}\n${host.name}\n`, there.stderr);
      } finally {
        client.close();
      }
    });
  }

  for (const flavour of ['nix', 'tix'] as const) {
    test(`tix build --store ssh-ng://… -E evaluates here and builds on ${flavour === 'nix' ? "Nix 2.8's" : "tix's"} daemon`, async () => {
      const host = flavour === 'nix' ? nixHost : tixHost;
      const client = new Client(harness);
      try {
        writeFileSync(join(client.dir, 'cwd', 'in.txt'), `source for ${flavour}\n`);
        const expr = `derivation { name = "store-ng-${flavour}"; system = "x86_64-linux"; builder = "/bin/sh";
          args = [ "-c" "read x < \${./in.txt}; echo $x > $out; read y < /tmp/whoami; echo $y >> $out" ]; }`;
        const r = await runCli(['--store', sshNgUri(host), 'build', '--no-out-link', '-E', expr], {
          cwd: join(client.dir, 'cwd'),
          env: client.env,
        });
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout.trim();
        assert.match(out, new RegExp(`^/nix/store/[a-z0-9]{32}-store-ng-${flavour}$`));
        const check = flavour === 'nix' ? `nix-store --check-validity ${out} && cat ${out}` : `cat ${out}`;
        const there = await host.run(check);
        assert.equal(there.stdout, `source for ${flavour}\n${host.name}\n`, there.stderr);
      } finally {
        client.close();
      }
    });
  }

  test('placement spreads independent builds over both ssh-ng builders, one job each', async () => {
    const client = new Client(harness);
    try {
      const drvs = client.addDerivations(
        [0, 1, 2, 3].map((i) => ({ name: `ng-spread-${i}`, script: `/bin/sleep 0.5; echo ${i} > $out` })),
      );
      const root = client.addDerivations([
        {
          name: 'ng-spread-root',
          script: 'echo root > $out',
          inputDrvs: Object.fromEntries(drvs.map((d) => [d, ['out']])),
        },
      ])[0]!;
      const spec = `${sshNgLine(nixHost, { maxJobs: 1 })} ; ${sshNgLine(tixHost, { maxJobs: 1 })}`;
      const r = await client.build(['--max-jobs', '0', '--builders', spec, root]);
      assert.equal(r.code, 0, r.stderr);
      const where = placementsInOrder(r.stderr);
      assert.equal(where.length, 5);
      const used = new Set(where.map(([, m]) => m));
      assert.deepEqual(used, new Set([sshNgUri(nixHost), sshNgUri(tixHost)]));
    } finally {
      client.close();
    }
  });

  test('killing the remote daemon mid-build moves the build to the other builder', async () => {
    const client = new Client(harness);
    try {
      const [drv] = client.addDerivations([
        { name: 'ng-failover', script: 'echo started; /bin/sleep 3; /bin/cat /tmp/whoami > $out' },
      ]);
      // The nix host is faster: the build goes there first.
      const spec = `${sshNgLine(nixHost, { speedFactor: 2 })} ; ${sshNgLine(tixHost)}`;
      const building = client.build(['--max-jobs', '0', '--builders', spec, drv!]);
      let killed: number[] = [];
      for (let i = 0; i < 200 && killed.length === 0; i++) {
        await sleep(50);
        // The builder process runs once the remote daemon has received the derivation.
        if (remotePids(nixHost, '/bin/sleep 3').length === 0) continue;
        killed = remotePids(nixHost, 'nix-daemon --stdio');
        for (const pid of killed) process.kill(pid, 'SIGKILL');
      }
      assert.ok(killed.length > 0, 'the build never started on the nix host');
      const r = await building;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        placementsInOrder(r.stderr).map(([, m]) => m),
        [sshNgUri(nixHost), sshNgUri(tixHost)],
      );
      assert.equal(lostNotices(r.stderr).length, 1, r.stderr);
      assert.match(lostNotices(r.stderr)[0]!, new RegExp(`lost '${sshNgUri(nixHost)}' while building`));
      const out = r.stdout.trim();
      assert.equal(readFileSync(join(client.dir, 'tix', out), 'utf8'), `${tixHost.name}\n`);
    } finally {
      client.close();
    }
  });

  test('a real Nix 2.8 nix-build --max-jobs 0 offloads over ssh-ng:// to tix-daemon', async () => {
    const nix = new NixClient(harness.env());
    try {
      const src = await nix.addFile('ng-input.txt', 'from nix over ssh-ng\n');
      const expr = `derivation {
        name = "nix-via-ssh-ng"; system = "x86_64-linux"; builder = "/bin/sh";
        args = ["-c" "echo building-on-tix-daemon; /bin/cat \${builtins.storePath "${src}"} > $out; /bin/cat /tmp/whoami >> $out"];
      }`;
      const r = await nix.run(
        'nix-build',
        ['--no-out-link', '--max-jobs', '0', '--option', 'builders', sshNgLine(tixHost), '-E', expr],
        { timeoutMs: 45000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /building '\/nix\/store\/[a-z0-9]{32}-nix-via-ssh-ng\.drv' on 'ssh-ng:\/\/tix-ng/,
      );
      assert.match(r.stderr, /building-on-tix-daemon/);
      const out = r.stdout.trim();
      assert.equal(readFileSync(join(nix.root, out), 'utf8'), `from nix over ssh-ng\n${tixHost.name}\n`);
      const q = await nix.run('nix-store', ['--verify-path', out]);
      assert.equal(q.code, 0, q.stderr);
      assert.equal((await tixHost.run(`cat ${out}`)).stdout, `from nix over ssh-ng\n${tixHost.name}\n`);
    } finally {
      nix.close();
    }
  });
});
