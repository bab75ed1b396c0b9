import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BuildResult, BuildStatus } from '../store/store.js';
import { MachineHealth } from './machine-state.js';
import { type BuildMachine, type BuildRequest, MachineFailure, Scheduler } from './scheduler.js';

function ok(): BuildResult {
  return {
    status: BuildStatus.Built,
    errorMsg: '',
    timesBuilt: 1,
    isNonDeterministic: false,
    startTime: 0,
    stopTime: 0,
    builtOutputs: new Map(),
  };
}

interface Fake extends BuildMachine {
  built: string[];
  concurrent: number;
  peak: number;
}

function fake(
  name: string,
  over: Partial<BuildMachine> & { behave?: (r: BuildRequest) => Promise<BuildResult> } = {},
): Fake {
  const f: Fake = {
    name,
    isLocal: false,
    systems: ['x86_64-linux'],
    maxJobs: 2,
    speedFactor: 1,
    supportedFeatures: [],
    mandatoryFeatures: [],
    built: [],
    concurrent: 0,
    peak: 0,
    ...over,
    async build(req) {
      f.concurrent++;
      f.peak = Math.max(f.peak, f.concurrent);
      try {
        await new Promise((r) => setTimeout(r, 5));
        const res = over.behave ? await over.behave(req) : ok();
        f.built.push(req.drvPath);
        return res;
      } finally {
        f.concurrent--;
      }
    },
  };
  return f;
}

const req = (i: number): BuildRequest => ({
  drvPath: `/nix/store/${i}.drv`,
  system: 'x86_64-linux',
  requiredFeatures: [],
});

test('never runs more than maxJobs on a machine, and uses every machine', async () => {
  const a = fake('a', { maxJobs: 2 });
  const b = fake('b', { maxJobs: 3 });
  const s = new Scheduler([a, b], { notice: () => {} });
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => s.build(req(i), { log: () => {} })));
  assert.ok(results.every((r) => r.status === BuildStatus.Built));
  assert.ok(a.peak <= 2 && b.peak <= 3, `peaks ${a.peak} ${b.peak}`);
  assert.equal(a.built.length + b.built.length, 30);
  assert.ok(a.built.length > 0 && b.built.length > 0);
});

test('a machine that dies mid-build: the build moves elsewhere and succeeds, with one notice', async () => {
  const dead = fake('dead', {
    speedFactor: 10,
    behave: async () => {
      throw new MachineFailure('connection closed by remote');
    },
  });
  const good = fake('good');
  const notices: string[] = [];
  const s = new Scheduler([dead, good], { notice: (l) => notices.push(l) });
  const r = await s.build(req(1), { log: () => {} });
  assert.equal(r.status, BuildStatus.Built);
  assert.deepEqual(good.built, ['/nix/store/1.drv']);
  assert.equal(notices.length, 1);
  assert.match(
    notices[0]!,
    /lost 'dead' while building '\/nix\/store\/1.drv' \(connection closed by remote\); retrying/,
  );
  assert.match(s.health.unavailable('dead') ?? '', /down since/);
});

test('a real build failure is not retried', async () => {
  let calls = 0;
  const bad = fake('bad', {
    behave: async () => {
      calls++;
      return { ...ok(), status: BuildStatus.PermanentFailure, errorMsg: 'builder failed with exit code 1' };
    },
  });
  const other = fake('other');
  const s = new Scheduler([bad, other], { notice: () => {} });
  const r = await s.build(req(1), { log: () => {} });
  assert.equal(r.status, BuildStatus.PermanentFailure);
  assert.equal(calls + other.built.length, 1);
});

test('retries are bounded', async () => {
  const machines = ['a', 'b', 'c'].map((n) =>
    fake(n, {
      behave: async () => {
        throw new MachineFailure('broken pipe');
      },
    }),
  );
  const s = new Scheduler(machines, { maxRetries: 1, notice: () => {}, maxWaitForDownMs: 0 });
  const r = await s.build(req(1), { log: () => {} });
  assert.equal(r.status, BuildStatus.MiscFailure);
  assert.match(r.errorMsg, /failed on 2 machines/);
});

test('no suitable machine: the error names every machine and why', async () => {
  const health = new MachineHealth();
  health.markDown('down', 'connection refused');
  const s = new Scheduler(
    [fake('arm', { systems: ['aarch64-linux'] }), fake('down'), fake('local', { isLocal: true, maxJobs: 0 })],
    { health, maxWaitForDownMs: 0, notice: () => {} },
  );
  const r = await s.build(req(1), { log: () => {} });
  assert.equal(r.status, BuildStatus.MiscFailure);
  assert.match(r.errorMsg, /arm: system 'x86_64-linux' not in \[aarch64-linux\]/);
  assert.match(r.errorMsg, /down: down since .*connection refused/);
  assert.match(r.errorMsg, /local: local builds disabled/);
});

test('waits for a temporarily-down machine when it is the only one', async () => {
  const health = new MachineHealth({ initialMs: 50, maxMs: 50 });
  health.markDown('only', 'connection refused');
  const only = fake('only');
  const s = new Scheduler([only], { health, maxWaitForDownMs: 2000, notice: () => {} });
  const r = await s.build(req(1), { log: () => {} });
  assert.equal(r.status, BuildStatus.Built);
});
