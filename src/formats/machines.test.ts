import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FormatError } from './errors.js';
import { allSupported, type Machine, mandatoryMet, parseMachines, systemSupported } from './machines.js';

function vectorsDir(): string {
  if (process.env.TIX_VECTORS) return process.env.TIX_VECTORS;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, '..', 'shared', 'vectors');
}
const V = vectorsDir();
const SYS = 'TEST_ARCH-TEST_OS';

function readVector(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const parse = (text: string) => parseMachines(text, { localSystem: SYS, readFile: readVector });

function rejects(text: string, re: RegExp): void {
  assert.throws(
    () => parse(text),
    (e: unknown) => e instanceof FormatError && e.code === 'BAD_MACHINES' && re.test(e.message),
  );
}

const defaults = (uri: string, line = 1): Machine => ({
  storeUri: uri,
  systems: [SYS],
  sshKey: '',
  maxJobs: 1,
  speedFactor: 1,
  supportedFeatures: [],
  mandatoryFeatures: [],
  sshPublicHostKey: '',
  source: { file: 'builders', line },
});

describe('parseMachines: upstream expectations shared by 2.8 and master', () => {
  it('empty input gives no machines', () => {
    assert.deepEqual(parse(''), []);
  });

  it('URI only, port, and all-dash columns take the defaults', () => {
    assert.deepEqual(parse('nix@scratchy.labs.cs.uu.nl'), [defaults('ssh://nix@scratchy.labs.cs.uu.nl')]);
    assert.deepEqual(parse('nix@scratchy.labs.cs.uu.nl:2222'), [
      defaults('ssh://nix@scratchy.labs.cs.uu.nl:2222'),
    ]);
    assert.deepEqual(parse('nix@scratchy.labs.cs.uu.nl - - - - - - -'), [
      defaults('ssh://nix@scratchy.labs.cs.uu.nl'),
    ]);
  });

  it('newline and semicolon both separate machines', () => {
    const nl = parse('nix@scratchy.labs.cs.uu.nl\nnix@itchy.labs.cs.uu.nl');
    assert.deepEqual(
      nl.map((m) => [m.storeUri, m.source?.line]),
      [
        ['ssh://nix@scratchy.labs.cs.uu.nl', 1],
        ['ssh://nix@itchy.labs.cs.uu.nl', 2],
      ],
    );
    const semi = parse('nix@scratchy.labs.cs.uu.nl ; nix@itchy.labs.cs.uu.nl');
    assert.deepEqual(
      semi.map((m) => m.storeUri),
      ['ssh://nix@scratchy.labs.cs.uu.nl', 'ssh://nix@itchy.labs.cs.uu.nl'],
    );
  });

  it('a complete row, with spaces or with tabs', () => {
    for (const sep of [' ', '\t', '   \t ']) {
      const row = [
        'nix@scratchy.labs.cs.uu.nl',
        'i686-linux',
        '/home/nix/.ssh/id_scratchy_auto',
        '8',
        '3',
        'kvm',
        'benchmark',
        'SSH+HOST+PUBLIC+KEY+BASE64+ENCODED==',
      ].join(sep);
      assert.deepEqual(parse(row), [
        {
          storeUri: 'ssh://nix@scratchy.labs.cs.uu.nl',
          systems: ['i686-linux'],
          sshKey: '/home/nix/.ssh/id_scratchy_auto',
          maxJobs: 8,
          speedFactor: 3,
          supportedFeatures: ['kvm'],
          mandatoryFeatures: ['benchmark'],
          sshPublicHostKey: 'SSH+HOST+PUBLIC+KEY+BASE64+ENCODED==',
          source: { file: 'builders', line: 1 },
        },
      ]);
    }
  });

  it('comma lists', () => {
    const [m] = parse(
      'nix@scratchy.labs.cs.uu.nl Arch1,Arch2 - - - SupportedFeature1,SupportedFeature2 MandatoryFeature1,MandatoryFeature2',
    );
    assert.deepEqual(m!.systems, ['Arch1', 'Arch2']);
    assert.deepEqual(m!.supportedFeatures, ['SupportedFeature1', 'SupportedFeature2']);
    assert.deepEqual(m!.mandatoryFeatures, ['MandatoryFeature1', 'MandatoryFeature2']);
    // Systems keep order and duplicates (a vector); features are sorted sets.
    const [n] = parse('h b,a,,b - - - z,y,z');
    assert.deepEqual(n!.systems, ['b', 'a', 'b']);
    assert.deepEqual(n!.supportedFeatures, ['y', 'z']);
  });

  it('bad formats are FormatErrors naming the place and the field', () => {
    rejects(
      'nix@scratchy.labs.cs.uu.nl - - eight',
      /^cannot parse machine specification at builders:1: failed to convert column #3 \(max jobs\) 'eight' to 'unsigned int'/,
    );
    rejects('nix@scratchy.labs.cs.uu.nl - - -1', /column #3 \(max jobs\) '-1'/);
    rejects('nix@scratchy.labs.cs.uu.nl - - 8 three', /column #4 \(speed factor\) 'three'/);
    rejects(
      'nix@scratchy.labs.cs.uu.nl - - 8 3 - - BAD_BASE64',
      /column #7 \(SSH public host key\).*invalid character '_'/,
    );
    rejects('ok-host\n\nnix@h - - 99999999999', /at builders:3: .*column #3 \(max jobs\) '99999999999'/);
  });

  it('the vectors/machines/valid file, directly and through @file', () => {
    const file = join(V, 'machines', 'valid');
    const direct = parseMachines(readFileSync(file, 'utf8'), { localSystem: SYS, file });
    assert.deepEqual(
      direct.map((m) => [
        m.storeUri,
        m.systems,
        m.sshKey,
        m.maxJobs,
        m.speedFactor,
        m.supportedFeatures,
        m.mandatoryFeatures,
      ]),
      [
        [
          'ssh://nix@scratchy.labs.cs.uu.nl',
          ['i686-linux'],
          '/home/nix/.ssh/id_scratchy_auto',
          8,
          1,
          ['kvm'],
          [],
        ],
        ['ssh://nix@itchy.labs.cs.uu.nl', ['i686-linux'], '/home/nix/.ssh/id_scratchy_auto', 8, 2, [], []],
        [
          'ssh://nix@poochie.labs.cs.uu.nl',
          ['i686-linux'],
          '/home/nix/.ssh/id_scratchy_auto',
          1,
          2,
          ['kvm'],
          ['benchmark'],
        ],
      ],
    );
    assert.ok(Buffer.from(direct[2]!.sshPublicHostKey, 'base64').toString().startsWith('ssh-rsa AAAAB3'));
    assert.deepEqual(direct[0]!.source, { file, line: 1 });
    assert.deepEqual(parse(`@${file}`), direct);
    assert.deepEqual(parse(`@  ${file}  `), direct);
  });

  it('@ an empty file and @ a missing file give nothing; @ a bad file fails with its own place', () => {
    assert.deepEqual(parse('@/dev/null'), []);
    assert.deepEqual(parse('@/not/a/file'), []);
    const bad = join(V, 'machines', 'bad_format');
    rejects(`@${bad}`, new RegExp(`at ${bad}:1: failed to convert column #3 \\(max jobs\\) 'eight'`));
    assert.throws(() => parseMachines('@/x', { localSystem: SYS }), /no file reader/);
  });
});

describe('parseMachines: where Nix 2.8.0 differs from master (we follow 2.8)', () => {
  it("';' splits before '#' strips comments, so a comment ends at ';'", () => {
    // master: the whole line is a comment (0 machines); 2.8: one machine.
    assert.deepEqual(
      parse('# comment ; ssh://localhost x86_64-linux').map((m) => [m.storeUri, m.systems]),
      [['ssh://localhost', ['x86_64-linux']]],
    );
    assert.deepEqual(parse('# just a comment\nh1 # trailing comment'), [defaults('ssh://h1', 2)]);
  });

  it('pieces are not trimmed: whitespace-only pieces are fatal', () => {
    // master ignores ' ;;; ' and ' ; ; '; 2.8 fails on the first whitespace-only piece.
    rejects(
      ' ; ; ',
      /^cannot parse machine specification at builders:1: store URL was not found at the first column of a row: ' '$/,
    );
    rejects('h1 ;;; ', /store URL was not found at the first column of a row: ' '/);
    rejects('h1\n  # indented comment', /at builders:2: store URL was not found .*: ' {2}'$/);
    rejects('h1 ; - i686-linux', /store URL was not found/);
    assert.equal(parse(';;;\n\n;').length, 0);
  });

  it("'@' is an include only as the piece's first character", () => {
    // ' @file' is a row whose store URI is '@file' (it contains '/', so no ssh:// is added).
    const [m] = parse(` @${join(V, 'machines', 'valid')}`);
    assert.equal(m!.storeUri, `@${join(V, 'machines', 'valid')}`);
    assert.deepEqual(
      parse('@/not/a/file ; h2').map((x) => x.storeUri),
      ['ssh://h2'],
    );
  });

  it('speed factor is an unsigned integer; 0 becomes 1; max jobs 0 stays 0', () => {
    rejects('h - - 1 1.5', /column #4 \(speed factor\) '1\.5' to 'unsigned int'/);
    rejects('h - - 1 -3', /column #4 \(speed factor\) '-3'/);
    const [m] = parse('h - - 0 0');
    assert.equal(m!.maxJobs, 0);
    assert.equal(m!.speedFactor, 1);
    const [p] = parse('h - - +8 007');
    assert.deepEqual([p!.maxJobs, p!.speedFactor], [8, 7]);
    rejects('h - - 4294967296', /'4294967296'/);
    assert.equal(parse('h - - 4294967295')[0]!.maxJobs, 4294967295);
  });

  it('store URIs: ssh:// is added only to bare host names', () => {
    const uris = parse(
      'a; ssh-ng://b; /srv/c; local; daemon?x=1; auto; ?root=/x; local?root=/y; unix:///s; h.example:22',
    ).map((m) => m.storeUri);
    assert.deepEqual(uris, [
      'ssh://a',
      'ssh-ng://b',
      '/srv/c',
      'local',
      'daemon?x=1',
      'auto',
      '?root=/x',
      'local?root=/y',
      'unix:///s',
      'ssh://h.example:22',
    ]);
  });

  it('base64 host keys: text after the first = is not checked', () => {
    assert.equal(parse('h - - - - - - abc=_!')[0]!.sshPublicHostKey, 'abc=_!');
    rejects('h - - - - - - ab!c', /invalid character '!'/);
  });
});

describe('machine feature predicates', () => {
  const [m] = parse('h x86_64-linux - 1 1 kvm,big-parallel benchmark');
  it('allSupported, mandatoryMet, systemSupported', () => {
    assert.ok(allSupported(m!, ['kvm', 'benchmark']));
    assert.ok(!allSupported(m!, ['nixos-test']));
    assert.ok(mandatoryMet(m!, ['benchmark', 'kvm']));
    assert.ok(!mandatoryMet(m!, ['kvm']));
    assert.ok(systemSupported(m!, 'x86_64-linux'));
    assert.ok(systemSupported(m!, 'builtin'));
    assert.ok(!systemSupported(m!, 'aarch64-linux'));
  });
});
