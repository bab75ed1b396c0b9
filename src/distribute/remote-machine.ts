// A remote builder as a BuildMachine: per build, copy the part of the input closure the builder
// lacks (references first, in one batch), send the BasicDerivation, stream the log, copy the
// outputs back into the local store. Connections come from a per-machine pool (one long-lived
// protocol session per slot). Anything that goes wrong with the connection — it cannot be opened,
// it dies mid-copy or mid-build — becomes a MachineFailure so that the scheduler retries the
// build elsewhere; a build that failed on its own merits is returned as its BuildResult.

import { alreadyValid } from '../build/goals.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { BasicDerivation, Derivation } from '../formats/derivation.js';
import type { Machine } from '../formats/machines.js';
import {
  type BuildingStore,
  type BuildOptions,
  type BuildResult,
  BuildStatus,
  type Store,
} from '../store/store.js';
import { computeClosure, copyPaths } from './copy.js';
import { ConnectionPool } from './pool.js';
import { type BuildContext, type BuildMachine, type BuildRequest, MachineFailure } from './scheduler.js';

export interface RemoteMachineOptions {
  /** The store builds are for; inputs come from it and outputs go to it. */
  local: Store;
  readDerivation: (drvPath: string) => Promise<Derivation>;
  /** Opens one protocol session to the machine. */
  connect: (machine: Machine) => Promise<BuildingStore>;
  buildOptions: BuildOptions;
  /** builders-use-substitutes: let the builder fetch inputs from its own caches first. */
  useSubstitutes: boolean;
  /** Errors that mean the machine, not the build, failed (connection lost, remote died). */
  isMachineError?: (e: unknown) => boolean;
}

/**
 * Error codes meaning the machine failed, not the build: the store's CONNECTION (cannot connect,
 * connection lost), REMOTE (the remote program printed an error and quit, e.g. its disk is full),
 * REMOTE_PROTOCOL (it speaks something else), HOST_KEY (permanent), the wire decoder's BAD_WIRE
 * (a truncated stream), and the transport's system errors.
 */
const MACHINE_ERROR_CODES = new Set([
  'CONNECTION',
  'REMOTE',
  'REMOTE_PROTOCOL',
  'HOST_KEY',
  'BAD_WIRE',
  'TRANSPORT',
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);
/** Codes after which the machine is not retried in this process. */
const PERMANENT_CODES = new Set(['HOST_KEY']);

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors that say the connection or remote process failed. */
export function defaultIsMachineError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = errorCode(e);
  if (code !== undefined && MACHINE_ERROR_CODES.has(code)) return true;
  return /unexpected end of (stream|file)|connection (closed|reset|refused)|broken pipe|remote .* (exited|died)/i.test(
    e.message,
  );
}

/** Machine errors that will not go away by retrying (a host key that does not match the pin). */
export function isPermanentMachineError(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && PERMANENT_CODES.has(code);
}

export class RemoteMachine implements BuildMachine {
  readonly isLocal = false;
  readonly name: string;
  readonly systems: string[];
  readonly maxJobs: number;
  readonly speedFactor: number;
  readonly supportedFeatures: string[];
  readonly mandatoryFeatures: string[];
  readonly pool: ConnectionPool<BuildingStore>;
  readonly #isMachineError: (e: unknown) => boolean;

  constructor(
    readonly machine: Machine,
    readonly opts: RemoteMachineOptions,
  ) {
    this.name = machine.storeUri;
    this.systems = machine.systems;
    this.maxJobs = machine.maxJobs;
    this.speedFactor = machine.speedFactor;
    this.supportedFeatures = machine.supportedFeatures;
    this.mandatoryFeatures = machine.mandatoryFeatures;
    this.#isMachineError = opts.isMachineError ?? defaultIsMachineError;
    this.pool = new ConnectionPool({
      max: Math.max(1, machine.maxJobs),
      open: () => opts.connect(machine),
      close: (c) => c.close(),
    });
  }

  #asMachineFailure(e: unknown, during: string): unknown {
    if (e instanceof MachineFailure) return e;
    if (!this.#isMachineError(e)) return e;
    const msg = e instanceof Error ? e.message : String(e);
    const permanent = isPermanentMachineError(e);
    return new MachineFailure(`${during}: ${msg}`, { permanent });
  }

  async build(req: BuildRequest, ctx: BuildContext): Promise<BuildResult> {
    const drv = req.drv ?? (await this.opts.readDerivation(req.drvPath));
    // As a local build does: hold the outputs' locks (another tix process building the same
    // derivation waits here, then finds the outputs valid instead of building them again).
    const outputs = [...drv.outputs.values()].map((o) => o.path).filter((p) => p !== '');
    const local = this.opts.local as Store & Partial<Pick<LocalBuildStore, 'lockPaths'>>;
    for (const q of outputs) await local.addTempRoot(q);
    const lock = await local.lockPaths?.(outputs, { wait: true });
    try {
      if (outputs.length > 0 && (await local.queryValidPaths(outputs)).size === outputs.length) {
        const builtOutputs = new Map<string, string>();
        for (const [name, o] of drv.outputs) if (o.path) builtOutputs.set(name, o.path);
        return alreadyValid(builtOutputs);
      }
      return await this.#buildLocked(req, drv, outputs, ctx);
    } finally {
      lock?.release();
    }
  }

  async #buildLocked(
    req: BuildRequest,
    drv: Derivation,
    outputs: string[],
    ctx: BuildContext,
  ): Promise<BuildResult> {
    // Inputs: sources plus the wanted outputs of input derivations, and their closure.
    const roots = new Set(drv.inputSrcs);
    for (const [inDrv, outputs] of drv.inputDrvs) {
      const map = await this.opts.local.queryDerivationOutputMap(inDrv);
      for (const o of outputs) {
        const p = map.get(o);
        if (p) roots.add(p);
      }
    }
    const closure = await computeClosure(this.opts.local, roots);
    let conn: BuildingStore;
    try {
      conn = await this.pool.acquire();
    } catch (e) {
      // Whatever stops a session from opening is the machine's problem, not the build's.
      const msg = e instanceof Error ? e.message : String(e);
      const permanent = isPermanentMachineError(e) || errorCode(e) === 'UNSUPPORTED';
      throw new MachineFailure(`cannot connect: ${msg}`, { permanent });
    }
    let healthy = false;
    try {
      try {
        await copyPaths(this.opts.local, conn, closure.keys(), { substitute: this.opts.useSubstitutes });
      } catch (e) {
        throw this.#asMachineFailure(e, 'copying inputs');
      }
      const basic: BasicDerivation = {
        name: drv.name,
        outputs: drv.outputs,
        inputSrcs: drv.inputDrvs.size > 0 ? [...closure.keys()].sort() : drv.inputSrcs,
        system: drv.system,
        builder: drv.builder,
        args: drv.args,
        env: drv.env,
      };
      const lines = new LineSplitter(ctx.log);
      let result: BuildResult;
      try {
        result = await conn.buildDerivation(req.drvPath, basic, {
          ...(ctx.remote ?? this.opts.buildOptions),
          onLog: (c) => lines.push(c),
        });
      } catch (e) {
        throw this.#asMachineFailure(e, 'building');
      } finally {
        lines.end();
      }
      if (!isSuccess(result.status)) {
        healthy = true;
        return {
          ...result,
          errorMsg: `build of '${req.drvPath}' on '${this.name}' failed: ${result.errorMsg}`,
        };
      }
      try {
        await copyPaths(conn, this.opts.local, outputs);
      } catch (e) {
        throw this.#asMachineFailure(e, 'copying outputs back');
      }
      healthy = true;
      const builtOutputs = new Map<string, string>();
      for (const [name, o] of drv.outputs) if (o.path) builtOutputs.set(name, o.path);
      return { ...result, builtOutputs };
    } finally {
      if (healthy) this.pool.release(conn);
      else await this.pool.destroy(conn).catch(() => {});
    }
  }
}

export function isSuccess(status: number): boolean {
  return (
    status === BuildStatus.Built ||
    status === BuildStatus.Substituted ||
    status === BuildStatus.AlreadyValid ||
    status === BuildStatus.ResolvesToAlreadyValid
  );
}

/** Turns a byte stream into lines (a carriage return starts the line over, as Nix's log does). */
export class LineSplitter {
  #partial = '';
  readonly #decoder = new TextDecoder();
  constructor(readonly onLine: (line: string) => void) {}
  push(chunk: Uint8Array): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.#partial = parts.pop()!;
    for (const p of parts) this.onLine(lastSegment(p));
  }
  end(): void {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = '';
    if (rest !== '') this.onLine(lastSegment(rest));
  }
}

function lastSegment(line: string): string {
  const i = line.lastIndexOf('\r');
  return i < 0 ? line : line.slice(i + 1);
}
