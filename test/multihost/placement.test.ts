// Where builds go, with real builders: system, supported and mandatory feature matching, a
// machine's maxJobs never exceeded (builders record start/end times into their outputs), and the
// faster machine preferred.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestDrvSpec } from '../../src/build/test-support.js';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason } from '../harness/nix-client.js';
import { Client, placements } from './support.js';

const skip = multiHostSkipReason();

/** Most intervals open at once. */
function peakConcurrency(intervals: [number, number][]): number {
  const events = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) {
    now += d!;
    peak = Math.max(peak, now);
  }
  return peak;
}

describe('placement on real builders', { skip }, () => {
  let harness: Harness;
  let a: Host;
  let b: Host;
  let client: Client;
  before(async () => {
    harness = Harness.create();
    [a, b] = await Promise.all([
      harness.startHost({ flavour: 'tix', name: 'host-a' }),
      harness.startHost({ flavour: 'tix', name: 'host-b' }),
    ]);
    client = new Client(harness);
  });
  after(async () => {
    client.close();
    await harness.close();
  });

  const spec = (name: string, features?: string[]): TestDrvSpec => ({
    name,
    script: 'echo > $out',
    env: features ? { requiredSystemFeatures: features.join(' ') } : {},
  });

  test('system types: only a machine declaring the derivation system is used', async () => {
    const [drv] = client.addDerivations([spec('sys-match')]);
    const builders = `${a.machinesLine({ systems: ['i686-linux'] })}\n${b.machinesLine({ systems: ['aarch64-linux', 'x86_64-linux'] })}`;
    const r = await client.build(['--max-jobs', '0', '--builders', builders, drv!]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(placements(r.stderr).get(drv!), b.uri);

    const [none] = client.addDerivations([spec('sys-none')]);
    const wrong = `${a.machinesLine({ systems: ['i686-linux'] })}\n${b.machinesLine({ systems: ['aarch64-linux'] })}`;
    const f = await client.build(['--max-jobs', '0', '--builders', wrong, none!]);
    assert.equal(f.code, 1, f.stderr);
    assert.ok(f.stderr.includes(`error: no machine can build '${none}' (system 'x86_64-linux'):`), f.stderr);
    assert.ok(f.stderr.includes(`  ${a.uri}: system 'x86_64-linux' not in [i686-linux]`), f.stderr);
    assert.ok(f.stderr.includes(`  ${b.uri}: system 'x86_64-linux' not in [aarch64-linux]`), f.stderr);
    assert.ok(f.stderr.includes('  local: '), f.stderr);
  });

  test('supported and mandatory features', async () => {
    const [plain, big, bench] = client.addDerivations([
      spec('feat-plain'),
      spec('feat-big', ['big-parallel']),
      spec('feat-bench', ['benchmark']),
    ]);
    const builders = [
      a.machinesLine({ maxJobs: 2, speedFactor: 10, mandatoryFeatures: ['benchmark'] }),
      b.machinesLine({ maxJobs: 2, supportedFeatures: ['big-parallel'] }),
    ].join('\n');
    const r = await client.build(['--max-jobs', '0', '--builders', builders, plain!, big!, bench!]);
    assert.equal(r.code, 0, r.stderr);
    const where = placements(r.stderr);
    // a is much faster but demands 'benchmark': only the derivation requiring it goes there.
    assert.equal(where.get(plain!), b.uri);
    assert.equal(where.get(big!), b.uri);
    assert.equal(where.get(bench!), a.uri);

    const [gpu] = client.addDerivations([spec('feat-gpu', ['gpu'])]);
    const f = await client.build(['--max-jobs', '0', '--builders', builders, gpu!]);
    assert.equal(f.code, 1);
    assert.ok(f.stderr.includes(`  ${a.uri}: missing feature gpu`), f.stderr);
    assert.ok(f.stderr.includes(`  ${b.uri}: missing feature gpu`), f.stderr);
  });

  test("a machine's maxJobs is never exceeded and both machines are used", async () => {
    const specs = Array.from({ length: 12 }, (_, i) => ({
      name: `slot-${i}`,
      script: 's=$(/bin/date +%s%N); /bin/sleep 0.4; e=$(/bin/date +%s%N); echo "$s $e" > $out',
    }));
    const drvs = client.addDerivations(specs);
    const builders = `${a.machinesLine({ maxJobs: 2 })}\n${b.machinesLine({ maxJobs: 3 })}`;
    const r = await client.build(['--max-jobs', '0', '--builders', builders, ...drvs]);
    assert.equal(r.code, 0, r.stderr);
    const where = placements(r.stderr);
    const outs = r.stdout.trim().split('\n');
    assert.equal(outs.length, 12);
    const byHost = new Map<string, [number, number][]>([
      [a.uri, []],
      [b.uri, []],
    ]);
    drvs.forEach((d, i) => {
      const [s, e] = readFileSync(join(client.dir, 'tix', outs[i]!), 'utf8')
        .trim()
        .split(' ')
        .map(Number);
      byHost.get(where.get(d)!)!.push([s!, e!]);
    });
    const peakA = peakConcurrency(byHost.get(a.uri)!);
    const peakB = peakConcurrency(byHost.get(b.uri)!);
    assert.ok(peakA >= 1 && peakA <= 2, `host-a ran ${peakA} at once`);
    assert.ok(peakB >= 2 && peakB <= 3, `host-b ran ${peakB} at once`);
    assert.equal(byHost.get(a.uri)!.length + byHost.get(b.uri)!.length, 12);
  });

  test('the faster machine is preferred; the slower one takes the overflow', async () => {
    const [one] = client.addDerivations([spec('fast-one')]);
    const builders = `${a.machinesLine({ speedFactor: 1 })}\n${b.machinesLine({ speedFactor: 4 })}`;
    const r = await client.build(['--max-jobs', '0', '--builders', builders, one!]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(placements(r.stderr).get(one!), b.uri);

    const two = client.addDerivations([
      { name: 'fast-two-0', script: '/bin/sleep 0.3; echo > $out' },
      { name: 'fast-two-1', script: '/bin/sleep 0.3; echo > $out' },
    ]);
    const r2 = await client.build(['--max-jobs', '0', '--builders', builders, ...two]);
    assert.equal(r2.code, 0, r2.stderr);
    const hosts = two.map((d) => placements(r2.stderr).get(d));
    assert.deepEqual([...hosts].sort(), [a.uri, b.uri].sort());
  });
});
