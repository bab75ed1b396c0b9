// Builders failing under a build: an sshd that is down (failover), the remote builder process
// killed mid-build again and again (every build still succeeds elsewhere, one notice each), a host
// key that does not match the pinned one (refused by name), and a builder whose disk is full.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason } from '../harness/nix-client.js';
import { Client, lostNotices, placements } from './support.js';

const skip = multiHostSkipReason();
/** Kill-mid-build rounds: 20 (what the issue asks for; about 15 s), more with TIX_SOAK=1. */
const KILL_ROUNDS = process.env.TIX_SOAK === '1' ? 100 : 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pids of the remote store processes (tix-store --serve) running inside a host. */
function remoteStorePids(host: Host): number[] {
  return host.processes().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tix-store');
    } catch {
      return false;
    }
  });
}

describe('faults on real builders', { skip }, () => {
  let harness: Harness;
  let a: Host;
  let b: Host;
  let client: Client;
  before(async () => {
    harness = Harness.create();
    [a, b] = await Promise.all([
      harness.startHost({ flavour: 'tix', name: 'victim' }),
      harness.startHost({ flavour: 'tix', name: 'survivor' }),
    ]);
    client = new Client(harness);
  });
  after(async () => {
    client.close();
    await harness.close();
  });

  test('a builder whose sshd is down: the build fails over to the next one, with one notice', async () => {
    const down = await harness.startHost({ flavour: 'tix', name: 'down-host' });
    const line = down.machinesLine({ speedFactor: 8 });
    await down.stop();
    const [drv] = client.addDerivations([{ name: 'failover', script: 'echo > $out' }]);
    const r = await client.build(['--max-jobs', '0', '--builders', `${line}\n${b.machinesLine()}`, drv!]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(placements(r.stderr).get(drv!), b.uri);
    const notices = lostNotices(r.stderr);
    assert.equal(notices.length, 1, r.stderr);
    assert.ok(notices[0]!.startsWith(`tix: lost 'ssh://down-host?`), notices[0]);
    assert.match(notices[0]!, /cannot connect: cannot connect to 'down-host'/);
  });

  test('a builder that accepts the connection but never answers: cut off after connect-timeout, the build goes elsewhere', {
    timeout: 60_000,
  }, async () => {
    // The remote program sleeps instead of answering the serve handshake.
    const hung = a
      .machinesLine({ speedFactor: 8 })
      .replace(/remote-program=[^ ]*/, 'remote-program=sleep%20600%3B');
    const [drv] = client.addDerivations([{ name: 'hung-builder', script: 'echo > $out' }]);
    const started = Date.now();
    const r = await client.build([
      '--max-jobs',
      '0',
      '--option',
      'connect-timeout',
      '2',
      '--builders',
      `${hung}\n${b.machinesLine()}`,
      drv!,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(placements(r.stderr).get(drv!), b.uri);
    const notices = lostNotices(r.stderr);
    assert.equal(notices.length, 1, r.stderr);
    assert.match(
      notices[0]!,
      /no answer from 'ssh:\/\/victim\?remote-program=sleep[^']*' within 2 s of connecting \(connect-timeout\)/,
    );
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  });

  test("a builder that freezes mid-build (no reset, no EOF): ssh's keepalive from the user's config cuts it off, the build goes elsewhere", {
    timeout: 60_000,
  }, async () => {
    const frozen = await harness.startHost({ flavour: 'tix', name: 'frozen-host' });
    const sshopts = client.env.NIX_SSHOPTS;
    try {
      // The user's ssh config for this host asks for a keepalive every second, two misses allowed:
      // tix must keep that rather than its own 15 s x 4.
      const config = join(client.dir, 'ssh_config_keepalive');
      writeFileSync(
        config,
        `Host frozen-host\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n${readFileSync(harness.sshConfigFile, 'utf8')}`,
      );
      client.env.NIX_SSHOPTS = `-F ${config}`;
      writeFileSync(join(frozen.base, 'tmp', 'victim'), '');
      chmodSync(join(frozen.base, 'tmp'), 0o1777);
      const [drv] = client.addDerivations([
        {
          name: 'frozen-builder',
          script: 'if [ -e /tmp/victim ]; then : > /tmp/started; /bin/sleep 30; fi; echo done > $out',
        },
      ]);
      const builders = `${frozen.machinesLine({ speedFactor: 8 })}\n${b.machinesLine()}`;
      const run = client.build(['--max-jobs', '0', '--builders', builders, drv!]);
      const marker = join(frozen.base, 'tmp', 'started');
      const deadline = Date.now() + 15000;
      while (!existsSync(marker) && Date.now() < deadline) await sleep(10);
      assert.ok(existsSync(marker), 'the build never started on the frozen host');
      // Freeze every process of the host: sshd, the store, the build. The kernel still
      // acknowledges TCP, so only an SSH-level keepalive can notice.
      const frozenAt = Date.now();
      for (const pid of frozen.processes()) process.kill(pid, 'SIGSTOP');
      const r = await run;
      const took = Date.now() - frozenAt;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(placements(r.stderr).get(drv!), b.uri);
      const notices = lostNotices(r.stderr);
      assert.equal(notices.length, 1, r.stderr);
      assert.ok(notices[0]!.startsWith(`tix: lost '${frozen.uri}' while building '${drv}'`), notices[0]);
      // 1 s x 2 missed keepalives, then the build elsewhere; tix's own 15 s x 4 would take 60 s.
      assert.ok(took < 20_000, `took ${took} ms after the freeze`);
    } finally {
      client.env.NIX_SSHOPTS = sshopts;
      await frozen.kill();
    }
  });

  test(`the builder process killed mid-build, ${KILL_ROUNDS} times: every build succeeds elsewhere`, async () => {
    writeFileSync(join(a.base, 'tmp', 'victim'), '');
    // Builders may run as an unprivileged build user: let them leave their start marker.
    chmodSync(join(a.base, 'tmp'), 0o1777);
    const builders = `${a.machinesLine({ speedFactor: 4 })}\n${b.machinesLine()}`;
    for (let i = 0; i < KILL_ROUNDS; i++) {
      const [drv] = client.addDerivations([
        {
          name: `killed-${i}`,
          script: `if [ -e /tmp/victim ]; then : > /tmp/started-${i}; /bin/sleep 30; fi; echo ${i} > $out`,
        },
      ]);
      const run = client.build(['--max-jobs', '0', '--builders', builders, drv!]);
      const marker = join(a.base, 'tmp', `started-${i}`);
      const deadline = Date.now() + 15000;
      while (!existsSync(marker) && Date.now() < deadline) await sleep(10);
      if (!existsSync(marker)) {
        const r = await run;
        assert.fail(`round ${i}: the build never started on '${a.name}': exit ${r.code}: ${r.stderr}`);
      }
      const pids = remoteStorePids(a);
      assert.ok(pids.length > 0, `round ${i}: no tix-store process on '${a.name}'`);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const r = await run;
      assert.equal(r.code, 0, `round ${i}: ${r.stderr}`);
      assert.equal(placements(r.stderr).get(drv!), b.uri, `round ${i}: ${r.stderr}`);
      const notices = lostNotices(r.stderr);
      assert.equal(notices.length, 1, `round ${i}: ${r.stderr}`);
      assert.ok(notices[0]!.startsWith(`tix: lost '${a.uri}' while building '${drv}'`), notices[0]);
      const out = r.stdout.trim();
      assert.equal(readFileSync(join(client.dir, 'tix', out), 'utf8'), `${i}\n`);
    }
    // Nothing of the killed sessions is left running on the victim.
    await sleep(200);
    assert.deepEqual(remoteStorePids(a), []);
  });

  test('a host key that does not match the pinned one is refused by name', async () => {
    const fields = a.machinesLine().split(' ');
    fields[7] = b.hostKeyBase64;
    const [drv] = client.addDerivations([{ name: 'wrong-key', script: 'echo > $out' }]);
    const r = await client.build(['--max-jobs', '0', '--builders', fields.join(' '), drv!]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`host key of '${a.name}' does not match the pinned key`), r.stderr);
    assert.ok(r.stderr.includes(`error: no machine can build '${drv}'`), r.stderr);
    assert.equal(placements(r.stderr).get(drv!), a.uri);
    // Nothing was built there.
    assert.equal((await a.run('ls /nix/store | grep -c wrong-key')).stdout.trim(), '0');
  });

  test('a builder out of disk: a clear error naming the machine', async () => {
    const full = await harness.startHost({
      flavour: 'tix',
      name: 'full-host',
      nixSizeBytes: 2 * 1024 * 1024,
    });
    try {
      const drv = client.withStore((s) => {
        const big = s.addTextToStoreSync('big-input', 'x'.repeat(3 * 1024 * 1024), []);
        return client.addDerivations([
          { name: 'needs-disk', script: `read x < ${big}; echo > $out`, inputSrcs: [big] },
        ])[0]!;
      });
      const r = await client.build(['--max-jobs', '0', '--builders', full.machinesLine(), drv]);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.stderr.includes(`error: no machine can build '${drv}'`), r.stderr);
      // One line per machine, indented under the error as Nix indents a message's further lines.
      const detail = r.stderr.split('\n').find((l) => l.startsWith(`         ${full.uri}: `));
      assert.ok(
        detail?.trimStart().startsWith(`${full.uri}: failed during this build: copying inputs:`),
        r.stderr,
      );
      assert.match(detail ?? '', /No space left on device|ENOSPC/);
    } finally {
      await full.kill();
    }
  });
});
