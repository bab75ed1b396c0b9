// What `tix shell` (nix-shell) runs: the environment, the files beside the rc file and the rc file
// itself, exactly as Nix 2.8's nix-shell composes them from a derivation — the caller's
// environment (only a few variables with --pure), the derivation's attributes on top, passAsFile
// and structured attrs written to the shell's own temporary directory, and an rc file that sources
// $stdenv/setup when there is one, runs the shellHook and then the --run/--command text.
import { compareUtf8 } from '../formats/byte-order.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { hashPlaceholder } from './env.js';
import type { JsonObject } from './json.js';
import { tokenize } from './parsed-derivation.js';
import { shellEscape, structuredAttrsJson, structuredAttrsShell } from './structured-attrs.js';

/** The variables `--pure` keeps (Nix 2.8's list); `--keep NAME` adds to it. */
export const PURE_KEEP_VARS: readonly string[] = [
  'HOME',
  'XDG_RUNTIME_DIR',
  'USER',
  'LOGNAME',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'WAYLAND_SOCKET',
  'PATH',
  'TERM',
  'IN_NIX_SHELL',
  'NIX_SHELL_PRESERVE_PROMPT',
  'TZ',
  'PAGER',
  'NIX_BUILD_SHELL',
  'SHLVL',
  'http_proxy',
  'https_proxy',
  'ftp_proxy',
  'all_proxy',
  'no_proxy',
];

export interface ShellEnvOptions {
  /** The environment the shell command runs in (IN_NIX_SHELL already set, as nix-shell sets it). */
  callerEnv: Readonly<Record<string, string | undefined>>;
  pure: boolean;
  /** Variables to keep with --pure besides PURE_KEEP_VARS (--keep). */
  keep: readonly string[];
  /** The shell's own directory: its rc file, passAsFile's and structured attrs' files. */
  tmpDir: string;
  storeDir: string;
  buildCores: number;
  /** The shell to run: a path, or "bash" looked up in PATH. */
  shell: string;
  /** What --run/--command asked for, followed by "\nexit"; '' for an interactive shell. */
  command: string;
  /**
   * A structured-attrs derivation's attributes with exportReferencesGraph resolved
   * (prepareStructuredAttrs); `outputs` is set here.
   */
  structuredAttrs?: JsonObject;
}

export interface ShellSetup {
  /** The shell's whole environment, sorted by name. */
  env: Map<string, string>;
  /** Files to write into tmpDir first (name -> contents). */
  files: Map<string, string>;
  /** The rc file's text (written to `${tmpDir}/rc` by the caller). */
  rc: string;
}

/** Nix's dirOf: everything before the last slash, "." without one, "/" for a top-level name. */
function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

export function nixShellSetup(drv: BasicDerivation, opts: ShellEnvOptions): ShellSetup {
  const env = new Map<string, string>();
  const keep = new Set([...PURE_KEEP_VARS, ...opts.keep]);
  for (const [k, v] of Object.entries(opts.callerEnv)) {
    if (v !== undefined && (!opts.pure || keep.has(k))) env.set(k, v);
  }
  // NixOS hack kept from 2.8: stops /etc/bashrc from sourcing /etc/profile.
  if (opts.pure) env.set('__ETC_PROFILE_SOURCED', '1');

  const tmp = opts.callerEnv.TMPDIR ?? opts.callerEnv.XDG_RUNTIME_DIR ?? '/tmp';
  for (const k of ['NIX_BUILD_TOP', 'TMPDIR', 'TEMPDIR', 'TMP', 'TEMP']) env.set(k, tmp);
  env.set('NIX_STORE', opts.storeDir);
  env.set('NIX_BUILD_CORES', String(opts.buildCores));

  const files = new Map<string, string>();
  const passAsFile = new Set(tokenize(drv.env.get('passAsFile') ?? ''));
  // 2.8 numbers passAsFile's files in the order of the derivation's attributes, sorted by name.
  for (const [k, v] of [...drv.env].sort((a, b) => compareUtf8(a[0], b[0]))) {
    if (passAsFile.has(k)) {
      const name = `.attr-${files.size}`;
      files.set(name, v);
      env.set(`${k}Path`, `${opts.tmpDir}/${name}`);
    } else {
      env.set(k, v);
    }
  }

  let structuredRc = '';
  if (opts.structuredAttrs !== undefined) {
    const json: JsonObject = Object.assign(Object.create(null), opts.structuredAttrs);
    const outputs: JsonObject = Object.create(null);
    for (const name of drv.outputs.keys()) outputs[name] = hashPlaceholder(name);
    json.outputs = outputs;
    structuredRc = structuredAttrsShell(json);
    files.set('.attrs.json', structuredAttrsJson(json));
    files.set('.attrs.sh', structuredRc);
    env.set('NIX_ATTRS_SH_FILE', `${opts.tmpDir}/.attrs.sh`);
    env.set('NIX_ATTRS_JSON_FILE', `${opts.tmpDir}/.attrs.json`);
  }

  const keepTmp = files.size > 0;
  const tz = opts.callerEnv.TZ;
  const rc =
    `_nix_shell_clean_tmpdir() { command rm -rf ${shellEscape(opts.tmpDir)}; }; ` +
    (keepTmp
      ? 'trap _nix_shell_clean_tmpdir EXIT; exitHooks+=(_nix_shell_clean_tmpdir); failureHooks+=(_nix_shell_clean_tmpdir); '
      : '_nix_shell_clean_tmpdir; ') +
    (opts.pure ? '' : '[ -n "$PS1" ] && [ -e ~/.bashrc ] && source ~/.bashrc;') +
    (opts.pure ? '' : 'p=$PATH; ') +
    'unset PATH;' +
    'dontAddDisableDepTrack=1;\n' +
    structuredRc +
    '\n[ -e $stdenv/setup ] && source $stdenv/setup; ' +
    (opts.pure ? '' : 'PATH=$PATH:$p; unset p; ') +
    `PATH=${shellEscape(dirOf(opts.shell))}:"$PATH"; ` +
    `SHELL=${shellEscape(opts.shell)}; ` +
    `BASH=${shellEscape(opts.shell)}; ` +
    'set +e; ' +
    `[ -n "$PS1" -a -z "$NIX_SHELL_PRESERVE_PROMPT" ] && PS1='\\n\\[\\033[1;32m\\][nix-shell:\\w]\\$\\[\\033[0m\\] '; ` +
    'if [ "$(type -t runHook)" = function ]; then runHook shellHook; fi; ' +
    'unset NIX_ENFORCE_PURITY; ' +
    'shopt -u nullglob; ' +
    `unset TZ; ${tz !== undefined ? `export TZ=${shellEscape(tz)}; ` : ''}` +
    'shopt -s execfail;' +
    opts.command;

  const sorted = new Map([...env].sort((a, b) => compareUtf8(a[0], b[0])));
  return { env: sorted, files, rc };
}
