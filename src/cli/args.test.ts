import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandUsage, flagValue, flagValues, HelpRequest, parseArgs } from './args.js';
import { runCli } from './run-cli.test-util.js';

const SPEC = {
  '--max-jobs': { arity: 1, aliases: ['-j'] },
  '--keep-going': { arity: 0, aliases: ['-k'] },
  '--arg': { arity: 2 },
};

test('flags take their values in order; a one-letter flag may carry its value attached', () => {
  const p = parseArgs(['-j4', 'a', '-k', '--arg', 'x', '1', '-j', '2', '--', '-j3'], SPEC);
  assert.deepEqual(flagValues(p, '--max-jobs'), [['4'], ['2']]);
  assert.equal(flagValue(p, '--max-jobs'), '2');
  assert.deepEqual(flagValues(p, '--arg'), [['x', '1']]);
  assert.deepEqual(p.positional, ['a', '-j3']);
  assert.throws(() => parseArgs(['-kx'], SPEC), /unrecognised flag '-x'/);
  assert.throws(() => parseArgs(['--max-jobs'], SPEC), /flag '--max-jobs' requires 1 argument/);
});

test('--help stops parsing with the flags for a usage text; after `--` it is an argument', () => {
  assert.throws(
    () => parseArgs(['a', '--help', '--bogus'], SPEC),
    (e) => e instanceof HelpRequest && e.spec === SPEC,
  );
  assert.deepEqual(parseArgs(['--', '--help'], SPEC).positional, ['--help']);
  const text = commandUsage(['store', 'gc'], 'delete unreachable store paths', SPEC);
  assert.match(text, /^usage: tix store gc \[FLAGS\] \[ARGS\.\.\.\]\n\ndelete unreachable store paths\.\n/);
  assert.match(
    text,
    /\n {2}--arg NAME VALUE\n {2}--keep-going \(also -k\)\n {2}--max-jobs VALUE \(also -j\)\n/,
  );
});

test('tix COMMAND --help prints the usage of that command and exits 0', async () => {
  const r = await runCli(['build', '-A', 'x', '--help'], { cwd: '/' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^usage: tix build /);
  assert.match(r.stdout, /\n {2}--attr VALUE \(also -A\)\n/);
  assert.match(r.stdout, /\n {2}--no-out-link\n/);
  const viaHelp = await runCli(['help', 'build'], { cwd: '/' });
  assert.equal(viaHelp.code, 0, viaHelp.stderr);
  assert.equal(viaHelp.stdout, r.stdout);
  const bad = await runCli(['build', '--no-such-flag'], { cwd: '/' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unrecognised flag '--no-such-flag'/);
});

test("compound short flags as Nix reads them: '-rsSh' is four flags, '-j3' a flag and its value", () => {
  const spec = {
    '-r': { arity: 0 },
    '-s': { arity: 0 },
    '-S': { arity: 0 },
    '-h': { arity: 0 },
    '--max-jobs': { arity: 1, aliases: ['-j'] },
    '-dc': { arity: 0 },
  };
  const p = parseArgs(['-rsSh', 'x', '-dc', '-sj', '3'], spec);
  assert.deepEqual([...p.flags.keys()], ['-r', '-s', '-S', '-h', '-dc', '--max-jobs']);
  assert.deepEqual(p.flags.get('-s'), [[], []]);
  assert.deepEqual(p.flags.get('--max-jobs'), [['3']]);
  assert.deepEqual(p.positional, ['x']);
  assert.deepEqual(parseArgs(['-rj4'], spec).flags.get('--max-jobs'), [['4']]);
  assert.throws(() => parseArgs(['-rX'], spec), /unrecognised flag '-X'/);
});
