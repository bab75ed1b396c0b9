import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Candidate, chooseMachine, explainChoice, explainRejections } from './placement.js';

function m(name: string, over: Partial<Candidate> = {}): Candidate {
  return {
    name,
    systems: ['x86_64-linux'],
    maxJobs: 2,
    speedFactor: 1,
    supportedFeatures: [],
    mandatoryFeatures: [],
    running: 0,
    isLocal: false,
    ...over,
  };
}
const req = { system: 'x86_64-linux', requiredFeatures: [] as string[] };

test('prefers the least load per speed, then the higher speed factor', () => {
  const a = m('a', { running: 1, speedFactor: 1 });
  const b = m('b', { running: 1, speedFactor: 4, maxJobs: 8 });
  const r = chooseMachine([a, b], req);
  assert.equal(r.kind === 'chosen' && r.machine.name, 'b');
  const c = m('c', { speedFactor: 2 });
  const d = m('d', { speedFactor: 3 });
  const r2 = chooseMachine([c, d], req);
  assert.equal(r2.kind === 'chosen' && r2.machine.name, 'd');
});

test('the local machine ranks below remote machines with a free slot', () => {
  const local = m('local', { isLocal: true, speedFactor: 100 });
  const remote = m('r', { running: 1 });
  const r = chooseMachine([local, remote], req);
  assert.equal(r.kind === 'chosen' && r.machine.name, 'r');
  const r2 = chooseMachine([local, m('r', { running: 2 })], req);
  assert.equal(r2.kind === 'chosen' && r2.machine.name, 'local');
});

test('preferLocalBuild stays here when this machine can build it, and is offloaded otherwise', () => {
  const local = m('local', { isLocal: true });
  const remote = m('r');
  const prefer = { ...req, preferLocal: true };
  const r = chooseMachine([local, remote], prefer);
  assert.equal(r.kind === 'chosen' && r.machine.name, 'local');
  // A busy local machine: wait for it rather than offload.
  assert.equal(chooseMachine([m('local', { isLocal: true, running: 2 }), remote], prefer).kind, 'busy');
  // max-jobs 0, or a system only the remote has: offloaded, as Nix does.
  const r2 = chooseMachine([m('local', { isLocal: true, maxJobs: 0 }), remote], prefer);
  assert.equal(r2.kind === 'chosen' && r2.machine.name, 'r');
  const arm = { ...prefer, system: 'aarch64-linux' };
  const r3 = chooseMachine([local, m('r', { systems: ['aarch64-linux'] })], arm);
  assert.equal(r3.kind === 'chosen' && r3.machine.name, 'r');
  // builtin derivations (builtin:fetchurl) can be built by any machine, this one first.
  const r4 = chooseMachine([local, remote], { ...prefer, system: 'builtin' });
  assert.equal(r4.kind === 'chosen' && r4.machine.name, 'local');
});

test('system, supported and mandatory features are matched as Nix does', () => {
  const arm = m('arm', { systems: ['aarch64-linux'] });
  const kvm = m('kvm', { supportedFeatures: ['kvm'] });
  const bench = m('bench', { mandatoryFeatures: ['benchmark'] });
  const r = chooseMachine([arm, kvm, bench], { system: 'x86_64-linux', requiredFeatures: ['kvm'] });
  assert.equal(r.kind === 'chosen' && r.machine.name, 'kvm');
  const r2 = chooseMachine([arm, kvm, bench], { system: 'x86_64-linux', requiredFeatures: ['benchmark'] });
  assert.equal(r2.kind === 'chosen' && r2.machine.name, 'bench');
  const r3 = chooseMachine([arm, kvm, bench], { system: 'x86_64-linux', requiredFeatures: [] });
  assert.equal(r3.kind === 'chosen' && r3.machine.name, 'kvm');
  const r4 = chooseMachine([arm], { system: 'builtin', requiredFeatures: [] });
  assert.equal(r4.kind === 'chosen' && r4.machine.name, 'arm');
});

test('maxJobs is never exceeded: full machines make the result busy', () => {
  const r = chooseMachine([m('a', { running: 2 }), m('b', { running: 2 })], req);
  assert.equal(r.kind, 'busy');
});

test('no possible machine gives one message naming every machine and its reason', () => {
  const r = chooseMachine(
    [
      m('ssh://arm', { systems: ['aarch64-linux'] }),
      m('ssh://dead', { unavailable: 'down since 12:00:00 (connection refused), retry in 4s' }),
      m('ssh://bench', { mandatoryFeatures: ['benchmark'] }),
      m('local', { isLocal: true, maxJobs: 0 }),
    ],
    { system: 'x86_64-linux', requiredFeatures: ['big-parallel'] },
  );
  assert.equal(r.kind, 'impossible');
  const text = explainRejections('/nix/store/x-a.drv', req, r.kind === 'impossible' ? r.rejections : []);
  assert.match(text, /ssh:\/\/arm: system 'x86_64-linux' not in \[aarch64-linux\]/);
  assert.match(text, /ssh:\/\/dead: missing feature big-parallel/);
  assert.match(text, /local: missing feature big-parallel/);
  const r2 = chooseMachine(
    [m('ssh://dead', { unavailable: 'down since 12:00:00' }), m('local', { isLocal: true, maxJobs: 0 })],
    req,
  );
  assert.equal(r2.kind, 'impossible');
  const t2 = explainRejections('/nix/store/x-a.drv', req, r2.kind === 'impossible' ? r2.rejections : []);
  assert.match(t2, /ssh:\/\/dead: down since 12:00:00/);
  assert.match(t2, /local: local builds disabled \(max-jobs = 0\)/);
});

test('explainChoice: the chosen machine and its load, then every other machine and why not', () => {
  const machines = [
    m('ssh://slow', { speedFactor: 1, running: 0 }),
    m('ssh://fast', { speedFactor: 4, running: 0, maxJobs: 8 }),
    m('ssh://loaded', { speedFactor: 4, running: 3, maxJobs: 8 }),
    m('ssh://full', { running: 2 }),
    m('ssh://arm', { systems: ['aarch64-linux'] }),
    m('ssh://gone', { unavailable: 'down since 12:00:00 (connection refused)' }),
    m('local', { isLocal: true }),
    m('ssh://twin', { speedFactor: 4, running: 0, maxJobs: 8 }),
  ];
  const r = chooseMachine(machines, req);
  assert.equal(r.kind, 'chosen');
  if (r.kind !== 'chosen') return;
  assert.equal(
    explainChoice('/nix/store/x.drv', r.machine, r.passedOver),
    [
      "placing '/nix/store/x.drv' on 'ssh://fast' (0/8 jobs, speed factor 4)",
      '  ssh://slow: slower (0/2 jobs, speed factor 1)',
      '  ssh://loaded: more loaded (3/8 jobs, speed factor 4)',
      '  local: remote machines come first (0/2 jobs, speed factor 1)',
      '  ssh://twin: as good, listed later (0/8 jobs, speed factor 4)',
      '  ssh://full: busy (2/2 jobs)',
      "  ssh://arm: system 'x86_64-linux' not in [aarch64-linux]",
      '  ssh://gone: down since 12:00:00 (connection refused)',
    ].join('\n'),
  );
  // preferLocalBuild: the remote machines are passed over for it.
  const local = chooseMachine([m('ssh://r'), m('local', { isLocal: true })], { ...req, preferLocal: true });
  assert.equal(local.kind === 'chosen' && local.machine.name, 'local');
  assert.deepEqual(local.kind === 'chosen' && local.passedOver, [
    { machine: 'ssh://r', reason: 'the derivation prefers local builds' },
  ]);
});
