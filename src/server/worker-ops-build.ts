// Worker-protocol builds: BuildPaths, BuildPathsWithResults, BuildDerivation, EnsurePath. The
// building itself is the WorkerBuilder's (src/build); here are the trust rules of Nix 2.8: repair
// needs a trusted client, and an untrusted client may only send content-addressed derivations.
import { isSuccess } from '../build/errors.js';
import { compareUtf8 } from '../formats/byte-order.js';
import { printDerivation } from '../formats/derivation.js';
import { derivationKind } from '../formats/derivation-hash.js';
import { FormatError } from '../formats/errors.js';
import { StoreError } from '../store/errors.js';
import { BuildMode, type DerivedPath } from '../store/store.js';
import {
  drvOutputId,
  printDerivedPath,
  readBasicDerivation,
  readDerivedPaths,
  readStorePath,
  WorkerOp,
  wantsAllOutputs,
  writeBuildResult,
} from '../store/worker-protocol.js';
import type { WorkerBuildContext, WorkerBuilder, WorkerConn } from './worker-context.js';

type Op = (c: WorkerConn) => Promise<void>;

function readMode(v: number): BuildMode {
  if (v !== BuildMode.Normal && v !== BuildMode.Repair && v !== BuildMode.Check) {
    throw new StoreError('BAD_INFO', `unknown build mode ${v}`);
  }
  return v;
}

function checkRepair(c: WorkerConn, mode: BuildMode): void {
  if (mode === BuildMode.Repair && !c.trusted) {
    throw new StoreError('UNTRUSTED', "repairing is not allowed because you are not in 'trusted-users'");
  }
}

function builder(c: WorkerConn): WorkerBuilder {
  if (!c.builder) throw new StoreError('UNSUPPORTED', `store '${c.store.uri}' cannot build derivations`);
  return c.builder;
}

function buildContext(c: WorkerConn, mode: BuildMode): WorkerBuildContext {
  return { mode, settings: c.settings, logger: c.logger, signal: c.signal };
}

/**
 * The requests as 2.8's worker makes goals of them: one per derivation, wanting the union of the
 * outputs asked for (none: all), and one per other path; in the goals' key order ("a$NAME$PATH"
 * for paths before "b$NAME$PATH" for derivations). Each goal's result is reported under its first
 * request, as 2.8 does.
 */
function goalsOf(paths: DerivedPath[]): { wanted: DerivedPath; first: DerivedPath }[] {
  const goals = new Map<string, { wanted: DerivedPath; first: DerivedPath }>();
  for (const p of paths) {
    const path = p.kind === 'opaque' ? p.path : p.drvPath;
    const key = `${p.kind === 'opaque' ? 'a' : 'b'}$${path.slice(path.lastIndexOf('/') + 34)}$${path}`;
    const goal = goals.get(key);
    if (goal === undefined) goals.set(key, { wanted: p, first: p });
    else if (goal.wanted.kind === 'built' && p.kind === 'built' && !wantsAllOutputs(goal.wanted.outputs)) {
      const outputs = wantsAllOutputs(p.outputs)
        ? p.outputs
        : [...new Set([...goal.wanted.outputs, ...p.outputs])];
      goal.wanted = { ...goal.wanted, outputs };
    }
  }
  return [...goals.keys()].sort(compareUtf8).map((k) => goals.get(k)!);
}

export class WorkerBuildFailure extends StoreError {
  constructor(
    message: string,
    readonly exitStatus: number,
  ) {
    super('BUILD_FAILED', message);
  }
}

export const buildOps: Record<number, Op> = {
  [WorkerOp.BuildPaths]: async (c) => {
    const goals = goalsOf(await readDerivedPaths(c.inp, c.minor, c.store.storeDir));
    const mode = c.minor >= 15 ? readMode(await c.inp.u64()) : BuildMode.Normal;
    checkRepair(c, mode);
    c.logger.startWork();
    const res = await builder(c).buildPaths(
      goals.map((g) => g.wanted),
      buildContext(c, mode),
    );
    if (res.failure) {
      // Several failed: 2.8 logs each one's own error (the first last; a build stopped because
      // another failed has none), then says that the build of them failed.
      const own = res.results.flatMap((r) =>
        isSuccess(r.result) || !r.result.errorMsg ? [] : [r.result.errorMsg],
      );
      const failed = res.results.filter((r) => !isSuccess(r.result)).length;
      if (failed > 1) for (const e of [...own.slice(1), ...own.slice(0, 1)]) c.logger.error(e);
      throw new WorkerBuildFailure(res.failure.message, res.failure.exitStatus);
    }
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.BuildPathsWithResults]: async (c) => {
    const goals = goalsOf(await readDerivedPaths(c.inp, c.minor, c.store.storeDir));
    const mode = readMode(await c.inp.u64());
    checkRepair(c, mode);
    c.logger.startWork();
    const res = await builder(c).buildPaths(
      goals.map((g) => g.wanted),
      buildContext(c, mode),
    );
    c.logger.stopWork();
    c.reply.u64(res.results.length);
    for (const [i, r] of res.results.entries()) {
      c.reply.string(printDerivedPath(goals[i]!.first, c.minor));
      writeBuildResult(c.reply, r.result, Math.max(c.minor, 29), r.outputId);
    }
  },

  [WorkerOp.BuildDerivation]: async (c) => {
    const dir = c.store.storeDir;
    let drvPath = await readStorePath(c.inp, dir);
    const drv = await readBasicDerivation(c.inp, drvPath, { storeDir: dir });
    const mode = readMode(await c.inp.u64());
    c.logger.startWork();
    let kind: string;
    try {
      kind = derivationKind(drv);
    } catch (e) {
      if (e instanceof FormatError) throw new StoreError('BAD_INFO', e.message, { cause: e });
      throw e;
    }
    const contentAddressed = kind === 'fixed' || kind === 'floating';
    if (!contentAddressed && !c.trusted) {
      throw new StoreError('UNTRUSTED', 'you are not privileged to build input-addressed derivations');
    }
    if (!c.trusted) {
      // The client's .drv path cannot be trusted: write the derivation ourselves.
      drvPath = await c.store.addTextToStore(
        `${drv.name}.drv`,
        printDerivation({ ...drv, inputDrvs: new Map() }),
        drv.inputSrcs,
      );
    }
    checkRepair(c, mode);
    const r = await builder(c).buildDerivation(drvPath, drv, buildContext(c, mode));
    c.logger.stopWork();
    writeBuildResult(c.reply, r, c.minor, (name) => drvOutputId(drv, name, dir));
  },

  [WorkerOp.EnsurePath]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    // As 2.8's ensurePath: a path that is not valid is substituted, if a substituter has it.
    if (!(await c.store.isValidPath(path))) {
      await c.builder?.buildPaths([{ kind: 'opaque', path }], buildContext(c, BuildMode.Normal));
      if (!(await c.store.isValidPath(path))) {
        throw new WorkerBuildFailure(`path '${path}' does not exist and cannot be created`, 1);
      }
    }
    c.logger.stopWork();
    c.reply.u64(1);
  },
};
