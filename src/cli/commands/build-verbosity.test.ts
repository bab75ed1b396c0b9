// `tix build` prints what nix-build 2.8 prints, byte for byte on stderr, by default, with
// -Q/--no-build-output (no builder output; a failure then repeats the last log lines) and with
// --quiet (no progress lines); a failed build's message is printed once, indented as Nix does;
// with a failing dependency, builds start in Nix's order and stop (or go on with -k) as in Nix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NIX_SANDBOX_CONF, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-verbosity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'v.nix');
writeFileSync(
  file,
  `{ tag }: rec {
  ok = derivation { name = "ok-\${tag}"; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" "echo says-hi; echo x > $out" ]; };
  bad = derivation { name = "bad-\${tag}"; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" "echo says-bye; exit 3" ]; };
  top = derivation { name = "top-\${tag}"; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" "echo \${bad} \${ok} > $out" ]; };
  both = [ bad ok ];
}
`,
);

/**
 * `tix build` and `nix-build` of `attr` (each tag makes fresh derivations) with `flags`: the same
 * exit code and the same stderr (tix names `tix log` where Nix names `nix log`).
 */
async function sameAsNixBuild(attr: string, tag: string, flags: string[], status?: number): Promise<void> {
  const args = ['--no-out-link', file, '-A', attr, '--argstr', 'tag', tag, ...flags];
  const ours = await runCliOnStore(tmp, 'tix-root', ['build', ...args]);
  const theirs = runNix(tmp, 'nix-build', args, { conf: NIX_SANDBOX_CONF });
  if (status !== undefined) assert.equal(theirs.status, status, theirs.stderr);
  assert.equal(ours.code, theirs.status, `${attr}: ${ours.stderr}`);
  assert.equal(ours.stderr.replaceAll("'tix log ", "'nix log "), theirs.stderr, attr);
}

describe('build output and verbosity flags', { skip: noNix }, () => {
  for (const flags of [[], ['-Q'], ['--no-build-output'], ['--quiet'], ['-v']]) {
    it(`stderr as nix-build ${flags.join(' ') || '(no flags)'}`, async () => {
      for (const attr of ['ok', 'bad']) await sameAsNixBuild(attr, flags.join('') || 'plain', flags);
    });
  }
});

describe('a failing dependency', { skip: noNix }, () => {
  for (const attr of ['top', 'both']) {
    for (const flags of [[], ['-k']]) {
      it(`stderr as nix-build -A ${attr} ${flags.join(' ')}`, () =>
        sameAsNixBuild(attr, `dep${attr}${flags.join('')}`, flags, 100));
    }
  }
});
