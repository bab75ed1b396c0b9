// Builds one derivation on this machine: lock its outputs, skip it if they are valid, run the
// builder in the sandbox, register the outputs, and describe the outcome as a Nix BuildResult.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BasicDerivation, Derivation } from '../formats/derivation.js';
import { type Hash, hashEquals, parseHash } from '../formats/hash.js';
import { isStoreError } from '../store/errors.js';
import { createNumberedDir, removeTreeSync } from '../store/fs-util.js';
import { narHashSync } from '../store/nar-dump-disk.js';
import { type BuildResult, BuildStatus } from '../store/store.js';
import { BuildLog } from './build-log.js';
import {
  acquireBuildUser,
  type BuildUser,
  buildUserPoolFor,
  chownTreeSync,
  defaultPoolDir,
} from './build-users.js';
import { builtinBuildenv } from './builtin-buildenv.js';
import { builtinFetchurl } from './builtin-fetchurl.js';
import { builtinUnpackChannel } from './builtin-unpack-channel.js';
import { inputClosure } from './closure.js';
import { makeBuilderEnv } from './env.js';
import { BuildError, type FailureFlags } from './errors.js';
import { type BuildLimits, createBuildCgroup, formatBytes, rlimitShell } from './limits.js';
import type { LocalBuildStore } from './local-store-view.js';
import { registerOutputs } from './outputs.js';
import { getBoolAttr, getStringsAttr, parseDerivationAttrs } from './parsed-derivation.js';
import { runPreBuildHook } from './pre-build-hook.js';
import { redirectOutputs, rewriteTree } from './redirect.js';
import { describeOutcome, runBuilder } from './run-builder.js';
import {
  type BuildUserStage,
  buildUserWrapper,
  bwrapArgs,
  bwrapPath,
  defaultSandboxPaths,
  parseSandboxPaths,
  SANDBOX_BUILD_DIR,
  type SandboxMode,
  searchableBy,
  stagedPath,
  useSandbox,
  writeSandboxEtc,
} from './sandbox.js';

export interface LocalBuildOptions {
  /** The `sandbox` setting; default 'true'. */
  sandbox?: SandboxMode;
  /** `sandbox-paths`; default defaultSandboxPaths() (/bin/sh). */
  sandboxPaths?: string[];
  /** `extra-sandbox-paths`, added to sandboxPaths. */
  extraSandboxPaths?: string[];
  /** `cores` (NIX_BUILD_CORES); default: the number of CPUs. */
  buildCores?: number;
  /** `max-silent-time` in seconds; 0 = none. */
  maxSilentTime?: number;
  /** `max-build-log-size` in bytes; 0 = no limit. */
  maxLogSize?: number;
  /** `hashed-mirrors`, for builtin:fetchurl. */
  hashedMirrors?: string[];
  /** `pre-build-hook`: may add sandbox paths per derivation (pre-build-hook.ts). */
  preBuildHook?: string;
  /** `timeout` in seconds; 0 = none. */
  timeout?: number;
  /** `log-lines`: how many last log lines go into a failure message; default 10. */
  logLines?: number;
  /**
   * The command a failure message names for the full log: 'tix log' (default); a daemon says
   * 'nix log', as its clients speak Nix's protocol (a tix client puts its own name back).
   */
  logCommand?: string;
  /** Each complete line the builder prints. */
  onLogLine?: (line: string) => void;
  /** Parent directory of build directories; default os.tmpdir(). */
  buildDir?: string;
  /** `keep-failed`: keep the build directory of a failed build. */
  keepFailed?: boolean;
  /** Environment to take `impureEnvVars` from; default process.env. */
  callerEnv?: Readonly<Record<string, string | undefined>>;
  /** Output names shown in timeout messages; default all outputs. */
  wantedOutputs?: string[];
  /**
   * The derivation came over the wire (BuildDerivation), not from its .drv: messages say "from
   * in-memory derivation", as Nix 2.8's.
   */
  inMemoryDerivation?: boolean;
  /**
   * `--check`: the outputs must be valid; the derivation is built again (in a scratch store in the
   * sandbox, else at fallback paths: redirect.ts) and each
   * output compared with the valid one, which stays as it is. A difference fails the build as not
   * deterministic; with keepFailed the new output is kept beside the old as `<output>.check`.
   */
  check?: boolean;
  /**
   * `--repair`: valid outputs whose contents no longer match their recorded NAR hash are built
   * again (in the sandbox) and replaced once the build has succeeded; good outputs stay.
   */
  repair?: boolean;
  /** With `repair`: outputs whose contents were already checked (the repair scan's results). */
  contentsChecked?: ReadonlyMap<string, boolean>;
  /** `system` and `extra-platforms`; default the host's ("x86_64-linux" etc.). */
  systems?: string[];
  /** `system-features`; default ['benchmark', 'big-parallel', 'nixos-test', 'kvm' if /dev/kvm]. */
  systemFeatures?: string[];
  signal?: AbortSignal;
  /**
   * `build-users-group`; used only when running as root (see build-users.ts). Default: 'nixbld'
   * when that group exists, else '' (the automatic uid pool).
   */
  buildUsersGroup?: string;
  /** false: never use build users, even as root. Default true. */
  buildUsers?: boolean;
  /** Directory holding the build users' `userpool/` locks; default defaultPoolDir() (machine-wide). */
  userPoolDir?: string;
  /** `build-memory-max` / `build-pids-max` (see limits.ts). */
  limits?: BuildLimits;
  /** Where the per-build `/etc/group` and `/etc/passwd` of build-users-group are read; default /etc. */
  etcDir?: string;
}

export type LocalBuildResult = BuildResult & FailureFlags;

export function hostSystem(): string {
  const arch = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l', riscv64: 'riscv64' }[
    process.arch as string
  ];
  const os = process.platform === 'darwin' ? 'darwin' : process.platform;
  return `${arch ?? process.arch}-${os}`;
}

export function defaultSystemFeatures(): string[] {
  const f = ['benchmark', 'big-parallel', 'nixos-test'];
  try {
    readdirSync('/dev').includes('kvm') && f.push('kvm');
  } catch {
    // no /dev
  }
  return f.sort();
}

export async function buildDerivationLocally(
  store: LocalBuildStore,
  drvPath: string,
  drv: BasicDerivation | Derivation,
  opts: LocalBuildOptions = {},
): Promise<LocalBuildResult> {
  const startTime = Math.floor(Date.now() / 1000);
  const result = (
    status: BuildResult['status'],
    errorMsg: string,
    extra: Partial<LocalBuildResult> = {},
  ): LocalBuildResult => ({
    status,
    errorMsg,
    timesBuilt: 0,
    isNonDeterministic: false,
    startTime,
    stopTime: Math.floor(Date.now() / 1000),
    builtOutputs: new Map(),
    ...extra,
  });
  const outputPaths = new Map<string, string>();
  for (const [name, out] of drv.outputs) {
    if (out.path === '')
      return result(
        BuildStatus.MiscFailure,
        `cannot build '${drvPath}': output '${name}' has no known path (floating content-addressed derivations are not supported)`,
      );
    outputPaths.set(name, out.path);
  }
  // --repair: outputs that are valid but damaged count as missing (Nix's PathStatus::Corrupt).
  const corrupt = new Set(
    opts.repair
      ? [...outputPaths]
          .filter(
            ([, q]) => store.isValidPathSync(q) && !(opts.contentsChecked?.get(q) ?? contentsGood(store, q)),
          )
          .map(([n]) => n)
      : [],
  );
  const allValid = () => [...outputPaths].every(([n, q]) => !corrupt.has(n) && store.isValidPathSync(q));
  if (opts.check && !allValid()) {
    return result(
      BuildStatus.MiscFailure,
      `some outputs of '${drvPath}' are not valid, so checking is not possible`,
    );
  }
  if (!opts.check && allValid()) return result(BuildStatus.AlreadyValid, '', { builtOutputs: outputPaths });

  let parsed: ReturnType<typeof parseDerivationAttrs>;
  try {
    parsed = parseDerivationAttrs(drvPath, drv);
    checkPlatform(drvPath, drv, parsed, opts);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    return result(BuildStatus.MiscFailure, e.message);
  }

  for (const q of outputPaths.values()) await store.addTempRoot(q);
  const lock = await store.lockPaths([...outputPaths.values()], { wait: true });
  try {
    if (!opts.check && allValid()) return result(BuildStatus.AlreadyValid, '', { builtOutputs: outputPaths });
    return await buildLocked(store, drvPath, drv, parsed, opts, result, corrupt);
  } finally {
    lock?.release();
  }
}

/** Nix's Worker::pathContentsGood: the path is there and its NAR hash is the one recorded. */
export function contentsGood(store: LocalBuildStore, path: string): boolean {
  const info = store.queryPathInfoSync(path);
  if (!info) return false;
  let got: Hash;
  try {
    got = narHashSync(store.toRealPath(path)).hash;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  return hashEquals(got, parseHash(info.narHash, { algo: 'sha256' }));
}

type MakeResult = (
  status: BuildResult['status'],
  errorMsg: string,
  extra?: Partial<LocalBuildResult>,
) => LocalBuildResult;

async function buildLocked(
  store: LocalBuildStore,
  drvPath: string,
  drv: BasicDerivation | Derivation,
  parsed: ReturnType<typeof parseDerivationAttrs>,
  opts: LocalBuildOptions,
  result: MakeResult,
  corrupt: ReadonlySet<string>,
): Promise<LocalBuildResult> {
  if (BUILTINS.has(drv.builder)) return buildBuiltin(store, drvPath, drv, parsed, opts, result);
  const mode = opts.sandbox ?? 'true';
  const chrootStore = store.storeDir !== store.realStoreDir;
  const isolated = useSandbox(mode, {
    fixedOutput: parsed.isFixedOutput,
    noChroot: getBoolAttr(parsed, '__noChroot'),
  });
  if (mode === 'true' && getBoolAttr(parsed, '__noChroot')) {
    return result(
      BuildStatus.MiscFailure,
      `derivation '${drvPath}' has '__noChroot' set, but that's not allowed when 'sandbox' is 'true'`,
    );
  }

  let inputs: string[];
  try {
    inputs = await inputClosure(store, drvPath, drv);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    return result(BuildStatus.MiscFailure, e.message);
  }
  for (const q of inputs) await store.addTempRoot(q);
  await store.autoGc?.();

  let user: BuildUser | undefined;
  try {
    user = await takeBuildUser(opts);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    return result(BuildStatus.MiscFailure, e.message);
  }
  try {
    return await buildAs(store, drvPath, drv, parsed, opts, result, {
      isolated,
      chrootStore,
      inputs,
      user,
      corrupt,
    });
  } finally {
    user?.release();
  }
}

async function takeBuildUser(opts: LocalBuildOptions): Promise<BuildUser | undefined> {
  if (opts.buildUsers === false) return undefined;
  const pool = buildUserPoolFor(opts.buildUsersGroup ?? defaultBuildUsersGroup(opts.etcDir ?? '/etc'));
  if (!pool) return undefined;
  const u = await acquireBuildUser(opts.userPoolDir ?? defaultPoolDir(), pool, {
    ...(opts.etcDir ? { etc: opts.etcDir } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onWait: () => opts.onLogLine?.('waiting for a free build user'),
  });
  // No process of an earlier build can be left under this uid: every builder runs as the init of
  // its own pid namespace (bwrap --unshare-pid --die-with-parent, in every sandbox mode), and the
  // kernel kills the whole namespace when the builder or tix exits. Scanning /proc for them, as
  // Nix does, cost more than the builds of trivial derivations themselves.
  return u;
}

function defaultBuildUsersGroup(etc: string): string {
  try {
    return readFileSync(`${etc}/group`, 'utf8')
      .split('\n')
      .some((l) => l.startsWith('nixbld:'))
      ? 'nixbld'
      : '';
  } catch {
    return '';
  }
}

async function buildAs(
  store: LocalBuildStore,
  drvPath: string,
  drv: BasicDerivation | Derivation,
  parsed: ReturnType<typeof parseDerivationAttrs>,
  opts: LocalBuildOptions,
  result: MakeResult,
  ctx: {
    isolated: boolean;
    chrootStore: boolean;
    inputs: string[];
    user: BuildUser | undefined;
    /** Valid outputs being repaired: built again like missing ones, their damaged copies removed. */
    corrupt: ReadonlySet<string>;
  },
): Promise<LocalBuildResult> {
  const { isolated, chrootStore, inputs, user } = ctx;

  const alreadyValid = new Set(
    [...drv.outputs].filter(([n, o]) => !ctx.corrupt.has(n) && store.isValidPathSync(o.path)).map(([n]) => n),
  );
  // Outside the sandbox the valid outputs are built at fallback paths (redirect.ts); inside it,
  // a scratch store stands in for the whole store.
  const redirects = redirectOutputs(drvPath, drv, isolated ? [] : alreadyValid, store.storeDir);
  // Leftovers of an interrupted build of this derivation (we hold its output locks).
  const scratchTag = scratchTagOf(store, drvPath);
  for (const name of readdirSync(store.realStoreDir)) {
    if (/^\.tmp-[0-9]+-/.test(name) && name.includes(scratchTag))
      removeTreeSync(join(store.realStoreDir, name));
  }
  for (const [name, out] of drv.outputs)
    if (!alreadyValid.has(name)) removeTreeSync(store.toRealPath(out.path));
  for (const p of redirects.paths.values()) removeTreeSync(store.toRealPath(p));

  const buildParent = opts.buildDir ?? tmpdir();
  mkdirSync(buildParent, { recursive: true });
  // Named as Nix 2.8 names it, so that a build recording its directory (outside the sandbox)
  // records the same one as under Nix.
  const buildDirHost = createNumberedDir(realpathSync(buildParent), `nix-build-${drv.name}.drv`);
  chmodSync(buildDirHost, 0o700);
  const scratchRoot = newScratchRoot(store, drvPath);
  const scratchStore = join(scratchRoot, 'store');
  const etcDir = join(scratchRoot, 'etc');
  // As a build user the sandbox sees the store and the build dir through a stage (sandbox.ts),
  // unless the build user can reach both where they are (a store at /nix/store, say).
  const needStage =
    user !== undefined &&
    ![store.realStoreDir, buildParent].every((p) => searchableBy(p, user.uid, user.gid));
  const stage: BuildUserStage | undefined = needStage
    ? {
        stage: mkdtempSync(join(tmpdir(), 'tix-stage-')),
        binds: [
          [store.realStoreDir, 'store'],
          [buildDirHost, basename(buildDirHost)],
        ],
      }
    : undefined;
  const staged = (p: string) => (stage ? stagedPath(stage, p) : p);
  const buildDirInSandbox = isolated ? SANDBOX_BUILD_DIR : staged(buildDirHost);
  const cgroup = opts.limits ? createBuildCgroup(opts.limits) : undefined;
  let failed = true;
  const log = openBuildLog(store, drvPath, opts);
  try {
    const inputSet = new Set(inputs);
    const be = makeBuilderEnv(parsed, {
      storeDir: store.storeDir,
      buildDirInSandbox,
      buildCores: opts.buildCores ?? availableParallelism(),
      callerEnv: opts.callerEnv ?? process.env,
      inputPaths: inputSet,
      pathInfo: (q) => {
        const info = store.queryPathInfoSync(q);
        if (!info) throw new BuildError('MISSING_INPUT', `path '${q}' is not valid`);
        return info;
      },
      derivationOutputs: (d) =>
        [...store.readDerivation(d).outputs.values()].map((o) => o.path).filter((x) => x !== ''),
      redirects: redirects.toFallback,
    });
    for (const [name, text] of be.files) writeFileSync(join(buildDirHost, name), text, { mode: 0o644 });

    // The pre-build hook runs for sandboxed builds only, as in Nix.
    const hookPaths =
      opts.preBuildHook && isolated ? await runPreBuildHook(opts.preBuildHook, drvPath, opts.callerEnv) : [];
    const sandboxPaths = parseSandboxPaths([
      ...(opts.sandboxPaths ?? defaultSandboxPaths()),
      ...(opts.extraSandboxPaths ?? []),
      ...hookPaths,
    ]);
    if (isolated) {
      mkdirSync(scratchStore, { recursive: true });
      chmodSync(scratchStore, 0o1775);
      writeSandboxEtc(etcDir, { fixedOutput: parsed.isFixedOutput, buildDirInSandbox });
    } else if (!chrootStore) {
      // The builder writes straight into the real store; nothing to prepare.
    }
    if (user) {
      if (stage) chmodSync(stage.stage, 0o755);
      chownSync(buildDirHost, user.uid, user.gid);
      if (isolated) chownSync(scratchStore, user.uid, user.gid);
      else makeStoreWritableFor(store.realStoreDir, user.gid);
    }
    const bwrap = bwrapArgs({
      isolated,
      fixedOutput: parsed.isFixedOutput,
      storeDir: store.storeDir,
      realStoreDir: staged(store.realStoreDir),
      scratchStoreDir: staged(scratchStore),
      etcDir: staged(etcDir),
      inputPaths: inputs,
      buildDirHost: staged(buildDirHost),
      buildDirInSandbox,
      sandboxPaths,
      kvm: (opts.systemFeatures ?? defaultSystemFeatures()).includes('kvm'),
    });
    const preExec = cgroup ? cgroup.joinShell : opts.limits ? rlimitShell(opts.limits) : '';
    // Without a stage or anything to run as root first, the whole chain starts as the build user
    // (node's spawn drops the groups, then the gid and uid): no setpriv in between.
    const direct = user !== undefined && !stage && preExec === '';
    const wrapper = user && !direct ? buildUserWrapper(user, stage) : [bwrapPath()];
    const outcome = await runBuilder({
      command: wrapper[0]!,
      ...(direct ? { uid: user.uid, gid: user.gid } : {}),
      argv: [...wrapper.slice(1), '--args', '3', '--', drv.builder, ...be.args],
      argsOnFd3: bwrap,
      env: be.env,
      maxSilentTime: opts.maxSilentTime ?? 0,
      timeout: opts.timeout ?? 0,
      maxLogSize: opts.maxLogSize ?? 0,
      onOutput: (c) => log.write(c),
      ...(opts.signal ? { signal: opts.signal } : {}),
      preExec,
      ...(cgroup ? { onKill: () => cgroup.killSync() } : {}),
    }).catch((e: Error) => {
      throw new BuildError('SANDBOX', `cannot start the builder of '${drvPath}': ${e.message}`);
    });
    log.close();
    const oomKilled = cgroup?.oomKilled() ?? false;
    // Nothing of the build may outlive it: its cgroup; its processes died with its pid namespace.
    await cgroup?.destroy();
    const built = { timesBuilt: 1 };
    const outs = opts.wantedOutputs ?? [...drv.outputs.keys()];
    const what = `building of '${drvPath}!${outs.length > 0 ? outs.join(',') : '*'}' from ${opts.inMemoryDerivation ? 'in-memory derivation' : '.drv file'}`;
    // A builder killed for its log, its silence or its time, or stopped, did not finish: not
    // counted as built (2.8's timesBuilt stays 0 for these).
    if (outcome.kind === 'logLimit') {
      return result(
        BuildStatus.LogLimitExceeded,
        `${what} killed after writing more than ${outcome.bytes} bytes of log output`,
      );
    }
    if (outcome.kind === 'silent' || outcome.kind === 'timeout') {
      const msg =
        outcome.kind === 'silent'
          ? `${what} timed out after ${outcome.seconds} seconds of silence`
          : `${what} timed out after ${outcome.seconds} seconds`;
      return result(BuildStatus.TimedOut, msg);
    }
    if (outcome.kind === 'aborted')
      return result(BuildStatus.MiscFailure, `build of '${drvPath}' was interrupted`);
    if (outcome.kind !== 'exited' || outcome.code !== 0) {
      let msg = `builder for '${drvPath}' ${describeOutcome(outcome)}`;
      if (oomKilled) {
        msg = `builder for '${drvPath}' was killed: exceeded memory limit of ${formatBytes(opts.limits!.memoryMax!)}`;
      }
      msg += logTail(log, drvPath, opts.logCommand);
      const status = parsed.isFixedOutput ? BuildStatus.TransientFailure : BuildStatus.PermanentFailure;
      return result(status, msg, built);
    }
    const actualPaths = new Map<string, string>();
    for (const [name, out] of drv.outputs) {
      const base = out.path.slice(store.storeDir.length + 1);
      const redirected = redirects.paths.get(name);
      actualPaths.set(name, isolated ? join(scratchStore, base) : store.toRealPath(redirected ?? out.path));
    }
    // The trees this build wrote (not the valid outputs left where they are).
    const builtHere = [...actualPaths].filter(
      ([name]) => opts.check || !alreadyValid.has(name) || redirects.paths.has(name),
    );
    for (const [, p] of builtHere) {
      // The build user must not keep write access to its outputs once they are in the store.
      if (user && exists(p)) chownTreeSync(p, 0, 0);
      // What was built at fallback paths gets the outputs' own hash parts back, in every output.
      await rewriteTree(p, redirects.toOriginal);
    }
    if (opts.check) {
      const differs = compareWithValidOutputs(store, drv, actualPaths, opts.keepFailed ?? false);
      if (differs)
        return result(BuildStatus.NotDeterministic, differs(drvPath), { ...built, checkMismatch: true });
      failed = false;
      return result(BuildStatus.Built, '', {
        ...built,
        builtOutputs: new Map([...drv.outputs].map(([n, o]) => [n, o.path])),
      });
    }
    try {
      const reg = await registerOutputs(store, parsed, { actualPaths, inputPaths: inputSet, alreadyValid });
      if (reg.hashMismatch) {
        return result(BuildStatus.OutputRejected, reg.hashMismatch.message, { ...built, hashMismatch: true });
      }
      failed = false;
      return result(BuildStatus.Built, '', { ...built, builtOutputs: reg.builtOutputs });
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      return result(BuildStatus.OutputRejected, e.message, built);
    }
  } catch (e) {
    if (!(e instanceof BuildError) && !isStoreError(e)) throw e;
    return result(BuildStatus.MiscFailure, e.message);
  } finally {
    log.close();
    await cgroup?.destroy();
    if (stage) rmdirSync(stage.stage);
    removeTreeSync(scratchRoot);
    for (const p of redirects.paths.values()) removeTreeSync(store.toRealPath(p));
    if (failed && opts.keepFailed) {
      log.note(`note: keeping build directory '${buildDirHost}'`);
      chmodSync(buildDirHost, 0o755);
    } else {
      removeTreeSync(buildDirHost);
    }
  }
}

/**
 * The part of a build's scratch-tree names that names its derivation. Scratch trees follow the
 * store's temporary-entry convention (".tmp-<pid>-…"), so that GC removes them once their process
 * is gone; a later build of the same derivation removes them right away.
 */
function scratchTagOf(store: LocalBuildStore, drvPath: string): string {
  return `-tix-build-${drvPath.slice(store.storeDir.length + 1, store.storeDir.length + 33)}-`;
}

/** A fresh scratch-tree path for a build of `drvPath`, beside the store objects. */
function newScratchRoot(store: LocalBuildStore, drvPath: string): string {
  return join(
    store.realStoreDir,
    `.tmp-${process.pid}${scratchTagOf(store, drvPath)}${randomBytes(6).toString('hex')}`,
  );
}

/** The end of a failure message: the last log lines, as Nix shows them, and where the log is. */
function logTail(log: BuildLog, drvPath: string, logCommand = 'tix log'): string {
  if (log.tail.length === 0) return '';
  const lines = log.tail.map((l) => `> ${l}\n`).join('');
  return `;\nlast ${log.tail.length} log lines:\n${lines}For full logs, run '${logCommand} ${drvPath}'.`;
}

/**
 * `--check`: the first output whose rebuilt tree (at actualPaths) has another NAR hash than its
 * valid path, as a message maker; undefined when all are the same. With keepFailed the differing
 * tree is kept at `<output>.check` beside the valid one.
 */
function compareWithValidOutputs(
  store: LocalBuildStore,
  drv: BasicDerivation | Derivation,
  actualPaths: Map<string, string>,
  keepFailed: boolean,
): ((drvPath: string) => string) | undefined {
  for (const [name, out] of drv.outputs) {
    const actual = actualPaths.get(name)!;
    const valid = store.queryPathInfoSync(out.path)!;
    if (hashEquals(narHashSync(actual).hash, parseHash(valid.narHash, { algo: 'sha256' }))) continue;
    const real = store.toRealPath(out.path);
    if (keepFailed) {
      const dst = `${real}.check`;
      removeTreeSync(dst);
      renameSync(actual, dst);
      return (drvPath) =>
        `derivation '${drvPath}' may not be deterministic: output '${real}' differs from '${dst}'`;
    }
    return (drvPath) => `derivation '${drvPath}' may not be deterministic: output '${real}' differs`;
  }
  return undefined;
}

/** The log of a local build: the store's log file, the last lines kept for the failure message. */
function openBuildLog(store: LocalBuildStore, drvPath: string, opts: LocalBuildOptions): BuildLog {
  return new BuildLog(store.buildLogPath(drvPath), { logLines: opts.logLines ?? 10, onLine: opts.onLogLine });
}

/** The builders Nix 2.8 has built in, which run in this process. */
const BUILTINS = new Set(['builtin:fetchurl', 'builtin:buildenv', 'builtin:unpack-channel']);

/**
 * builtin:fetchurl (builtin-fetchurl.ts), builtin:buildenv (builtin-buildenv.ts) or
 * builtin:unpack-channel (builtin-unpack-channel.ts) into a scratch tree, then the usual output
 * registration.
 */
async function buildBuiltin(
  store: LocalBuildStore,
  drvPath: string,
  drv: BasicDerivation | Derivation,
  parsed: ReturnType<typeof parseDerivationAttrs>,
  opts: LocalBuildOptions,
  result: MakeResult,
): Promise<LocalBuildResult> {
  const builtin = drv.builder.slice('builtin:'.length);
  const scratchRoot = newScratchRoot(store, drvPath);
  const log = openBuildLog(store, drvPath, opts);
  const built = { timesBuilt: 1 };
  try {
    const actualPaths = new Map<string, string>();
    for (const [name, out] of drv.outputs) {
      removeTreeSync(store.toRealPath(out.path));
      actualPaths.set(name, join(scratchRoot, out.path.slice(store.storeDir.length + 1)));
    }
    if (actualPaths.size !== 1 || !actualPaths.has('out')) {
      return result(
        BuildStatus.MiscFailure,
        `cannot build '${drvPath}': ${drv.builder} needs one output 'out'`,
      );
    }
    // A user environment refers to the packages it links, a channel to what its files name: the
    // inputs are the candidates (a download has none).
    const inputs = builtin === 'fetchurl' ? [] : await inputClosure(store, drvPath, drv);
    for (const q of inputs) await store.addTempRoot(q);
    mkdirSync(scratchRoot, { recursive: true });
    const outReal = actualPaths.get('out')!;
    const realPath = (p: string) => (p.startsWith(`${store.storeDir}/`) ? store.toRealPath(p) : p);
    try {
      if (builtin === 'fetchurl') {
        await builtinFetchurl(drv, outReal, (line) => log.note(line), { hashedMirrors: opts.hashedMirrors });
      } else if (builtin === 'unpack-channel') {
        builtinUnpackChannel(drv.env, outReal, realPath);
      } else {
        builtinBuildenv(drv.env, outReal, {
          realPath,
          outPath: drv.outputs.get('out')!.path,
          warn: (message) => log.note(`warning: ${message}`),
        });
      }
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      log.note(`error: ${e.message}`);
      log.close();
      const msg = `builder for '${drvPath}' failed with exit code 1${logTail(log, drvPath, opts.logCommand)}`;
      return result(BuildStatus.TransientFailure, msg, built);
    }
    log.close();
    const reg = await registerOutputs(store, parsed, {
      actualPaths,
      inputPaths: new Set(inputs),
      alreadyValid: new Set(),
    });
    if (reg.hashMismatch)
      return result(BuildStatus.OutputRejected, reg.hashMismatch.message, { ...built, hashMismatch: true });
    return result(BuildStatus.Built, '', { ...built, builtOutputs: reg.builtOutputs });
  } catch (e) {
    if (!(e instanceof BuildError) && !isStoreError(e)) throw e;
    return result(BuildStatus.MiscFailure, e.message, built);
  } finally {
    log.close();
    removeTreeSync(scratchRoot);
  }
}

function checkPlatform(
  drvPath: string,
  drv: BasicDerivation,
  parsed: ReturnType<typeof parseDerivationAttrs>,
  opts: LocalBuildOptions,
): void {
  const systems = opts.systems ?? [hostSystem()];
  const features = opts.systemFeatures ?? defaultSystemFeatures();
  const required = getStringsAttr(parsed, 'requiredSystemFeatures') ?? [];
  const builtin = drv.builder.startsWith('builtin:');
  if (builtin && !BUILTINS.has(drv.builder)) {
    throw new BuildError(
      'BAD_DRV',
      `cannot build '${drvPath}': unsupported builtin builder '${drv.builder.slice('builtin:'.length)}'`,
    );
  }
  // A builtin builder runs in this process, whatever system the derivation names (as in Nix).
  const platformOk = builtin || systems.includes(drv.system);
  if (!platformOk || required.some((f) => !features.includes(f))) {
    throw new BuildError(
      'NO_SLOT',
      `a '${drv.system}' with features {${[...new Set(required)].sort().join(', ')}} is required to build '${drvPath}', but I am a '${systems[0]}' with features {${[...features].sort().join(', ')}}`,
    );
  }
}

function exists(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** sandbox = false with build users: the builder writes into the store dir itself (root:gid 1775, as Nix). */
function makeStoreWritableFor(realStoreDir: string, gid: number): void {
  const st = statSync(realStoreDir);
  if (st.gid !== gid) chownSync(realStoreDir, 0, gid);
  if ((st.mode & 0o7777) !== 0o1775) chmodSync(realStoreDir, 0o1775);
}
