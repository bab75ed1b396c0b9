import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDerivation } from '../formats/derivation.js';
import type { ValidPathInfo } from '../store/store.js';
import { type BuilderEnvOptions, hashPlaceholder, makeBuilderEnv, passAsFileName } from './env.js';
import { parseDerivationAttrs } from './parsed-derivation.js';

// A derivation instantiated by Nix 2.8.0 (outputs out+dev, passAsFile, list/bool/null attrs) and
// the environment its builder saw in 2.8's sandbox (`export` output, quoting removed).
const ENVDUMP_DRV =
  'Derive([("dev","/nix/store/ijihyjrwy001l2fp64a7bhdah0jiz79d-envdump-dev","",""),("out","/nix/store/n6lrm23klvkd9acazp2pqn8z3xq8a0w9-envdump","","")],[],[],"x86_64-linux","/bin/sh",["-c","true"],[("big","hello big"),("builder","/bin/sh"),("dev","/nix/store/ijihyjrwy001l2fp64a7bhdah0jiz79d-envdump-dev"),("flag","1"),("foo","bar baz"),("lst","a b"),("name","envdump"),("nul",""),("num","3"),("out","/nix/store/n6lrm23klvkd9acazp2pqn8z3xq8a0w9-envdump"),("outputs","out dev"),("passAsFile","big"),("system","x86_64-linux")])';
const NIX_ENV: Record<string, string> = {
  HOME: '/homeless-shelter',
  NIX_BUILD_CORES: '2',
  NIX_BUILD_TOP: '/build',
  NIX_LOG_FD: '2',
  NIX_STORE: '/nix/store',
  PATH: '/path-not-set',
  PWD: '/build',
  TEMP: '/build',
  TEMPDIR: '/build',
  TERM: 'xterm-256color',
  TMP: '/build',
  TMPDIR: '/build',
  bigPath: '/build/.attr-1lak0mvllw8rv9i9ygkglvhqsq19qi9ynl4bi7gbf69ab5nzw89a',
  builder: '/bin/sh',
  dev: '/nix/store/ijihyjrwy001l2fp64a7bhdah0jiz79d-envdump-dev',
  flag: '1',
  foo: 'bar baz',
  lst: 'a b',
  name: 'envdump',
  nul: '',
  num: '3',
  out: '/nix/store/n6lrm23klvkd9acazp2pqn8z3xq8a0w9-envdump',
  outputs: 'out dev',
  passAsFile: 'big',
  system: 'x86_64-linux',
};

function opts(over: Partial<BuilderEnvOptions> = {}): BuilderEnvOptions {
  return {
    storeDir: '/nix/store',
    buildDirInSandbox: '/build',
    buildCores: 2,
    callerEnv: {},
    inputPaths: new Set(),
    pathInfo: (p) => {
      throw new Error(`unexpected pathInfo(${p})`);
    },
    derivationOutputs: () => [],
    ...over,
  };
}

const drvPath = '/nix/store/qnc41pl8n3ygz5xhb8562pc35p535df7-envdump.drv';

test('plain derivation: environment identical to Nix 2.8 in its sandbox', () => {
  const drv = parseDerivation(ENVDUMP_DRV, { name: 'envdump' });
  const be = makeBuilderEnv(parseDerivationAttrs(drvPath, drv), opts());
  assert.deepEqual(Object.fromEntries(be.env), NIX_ENV);
  assert.deepEqual([...be.env.keys()], Object.keys(NIX_ENV).sort());
  assert.deepEqual(
    be.files,
    new Map([['.attr-1lak0mvllw8rv9i9ygkglvhqsq19qi9ynl4bi7gbf69ab5nzw89a', 'hello big']]),
  );
  assert.equal(passAsFileName('big'), '.attr-1lak0mvllw8rv9i9ygkglvhqsq19qi9ynl4bi7gbf69ab5nzw89a');
});

test('fixed-output: NIX_OUTPUT_CHECKED and impureEnvVars from the caller (2.8 capture)', () => {
  const text =
    'Derive([("out","/nix/store/iynq3gqb7ycnwair5nc25fwva38dvrnm-fodenv","sha256","5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")],[],[],"x86_64-linux","/bin/sh",["-c","x"],[("builder","/bin/sh"),("impureEnvVars","MY_PROXY"),("name","fodenv"),("out","/nix/store/iynq3gqb7ycnwair5nc25fwva38dvrnm-fodenv"),("outputHash","5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),("outputHashAlgo","sha256"),("outputHashMode","flat"),("system","x86_64-linux")])';
  const drv = parseDerivation(text, { name: 'fodenv' });
  const be = makeBuilderEnv(
    parseDerivationAttrs('/nix/store/x-fodenv.drv', drv),
    opts({ callerEnv: { MY_PROXY: 'px' } }),
  );
  assert.equal(be.env.get('NIX_OUTPUT_CHECKED'), '1');
  assert.equal(be.env.get('MY_PROXY'), 'px');
  const be2 = makeBuilderEnv(parseDerivationAttrs('/nix/store/x-fodenv.drv', drv), opts());
  assert.equal(be2.env.get('MY_PROXY'), '');
});

test('structured attrs: no attrs exported, .attrs files written (2.8 capture)', () => {
  const text =
    'Derive([("out","/nix/store/nbr238dvxayyv0cskadfxkayrksw2axf-sadump","","")],[],[],"x86_64-linux","/bin/bash",["-c","x"],[("__json","{\\"builder\\":\\"/bin/bash\\",\\"name\\":\\"sadump\\",\\"system\\":\\"x86_64-linux\\"}"),("out","/nix/store/nbr238dvxayyv0cskadfxkayrksw2axf-sadump")])';
  const drv = parseDerivation(text, { name: 'sadump' });
  const be = makeBuilderEnv(parseDerivationAttrs('/nix/store/x-sadump.drv', drv), opts());
  assert.deepEqual(
    [...be.env.keys()],
    [
      'HOME',
      'NIX_ATTRS_JSON_FILE',
      'NIX_ATTRS_SH_FILE',
      'NIX_BUILD_CORES',
      'NIX_BUILD_TOP',
      'NIX_LOG_FD',
      'NIX_STORE',
      'PATH',
      'PWD',
      'TEMP',
      'TEMPDIR',
      'TERM',
      'TMP',
      'TMPDIR',
    ],
  );
  assert.equal(be.env.get('NIX_ATTRS_JSON_FILE'), '/build/.attrs.json');
  assert.equal(
    be.files.get('.attrs.json'),
    '{"builder":"/bin/bash","name":"sadump","outputs":{"out":"/nix/store/nbr238dvxayyv0cskadfxkayrksw2axf-sadump"},"system":"x86_64-linux"}',
  );
});

test('output placeholders are rewritten in env, args and passAsFile contents', () => {
  const ph = hashPlaceholder('out');
  assert.equal(ph, '/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9');
  const out = '/nix/store/n6lrm23klvkd9acazp2pqn8z3xq8a0w9-envdump';
  const text = `Derive([("out","${out}","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo ${ph}/bin"],[("big","at ${ph}"),("out","${out}"),("passAsFile","big"),("x","${ph}/lib")])`;
  const drv = parseDerivation(text, { name: 'envdump' });
  const be = makeBuilderEnv(parseDerivationAttrs(drvPath, drv), opts());
  assert.equal(be.env.get('x'), `${out}/lib`);
  assert.deepEqual(be.args, ['-c', `echo ${out}/bin`]);
  assert.equal([...be.files.values()][0], `at ${out}`);
});

test('exportReferencesGraph writes registration text of the closure', () => {
  const a = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';
  const b = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b';
  const infos = new Map<string, ValidPathInfo>([
    [a, info(a, [b])],
    [b, info(b, [b])],
  ]);
  const out = '/nix/store/n6lrm23klvkd9acazp2pqn8z3xq8a0w9-envdump';
  const text = `Derive([("out","${out}","","")],[],["${a}"],"x86_64-linux","/bin/sh",[],[("exportReferencesGraph","graph ${a}/sub"),("out","${out}")])`;
  const drv = parseDerivation(text, { name: 'envdump' });
  const be = makeBuilderEnv(
    parseDerivationAttrs(drvPath, drv),
    opts({ inputPaths: new Set([a, b]), pathInfo: (p) => infos.get(p)! }),
  );
  assert.equal(be.files.get('graph'), `${a}\n\n1\n${b}\n${b}\n\n1\n${b}\n`);
  const bad = parseDerivation(text.replace('graph ', ''), { name: 'envdump' });
  assert.throws(() => makeBuilderEnv(parseDerivationAttrs(drvPath, bad), opts()), {
    message: /odd number of tokens/,
  });
});

function info(path: string, references: string[]): ValidPathInfo {
  return {
    path,
    narHash: `sha256:${'0'.repeat(64)}`,
    narSize: 8,
    references,
    registrationTime: 0,
    ultimate: false,
    sigs: [],
  };
}
