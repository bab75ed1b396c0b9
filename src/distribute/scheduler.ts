// One scheduler for local and remote build slots. It is the executor the derivation DAG calls for
// each derivation: it places the build on a machine (placement.ts), never runs more than a
// machine's maxJobs there, waits when every suitable machine is busy, and when a machine fails —
// cannot be reached, or its connection dies mid-build — marks it down (machine-state.ts) and
// retries the build elsewhere, a bounded number of times. A build that really failed (the builder
// exited non-zero) is returned as is and never retried.
import type { LocalBuildOptions } from '../build/build-one.js';
import type { Derivation } from '../formats/derivation.js';
import type { BuildOptions, BuildResult } from '../store/store.js';
import { BuildStatus, immediateResult } from '../store/store.js';
import { MachineHealth } from './machine-state.js';
import {
  type Candidate,
  chooseMachine,
  explainChoice,
  explainRejections,
  type Requirements,
} from './placement.js';

/** The derivation facts the scheduler needs. */
export interface BuildRequest {
  drvPath: string;
  system: string;
  requiredFeatures: string[];
  /** The derivation sets `preferLocalBuild` (see Requirements). */
  preferLocal?: boolean;
  /** `--check`: build it again on this machine and compare with its valid outputs. */
  check?: boolean;
  /** `--repair`: build it on this machine, replacing its damaged valid outputs. */
  repair?: boolean;
  /** The derivation itself, when the caller has it (BuildDerivation's may not be in the store). */
  drv?: Derivation;
}

/** One request's view of the machines: where it may go, how it is announced, its options. */
export interface BuildContext {
  /** One line of build output, already without its newline. */
  log: (line: string) => void;
  /** Notices about this build (machine lost, retrying); default the scheduler's. */
  notice?: (line: string) => void;
  /** Why this request may not use `machine` (e.g. the client set `builders = ""`); undefined = it may. */
  exclude?: (machine: BuildMachine) => string | undefined;
  /** Called when the build starts on `machine` (once per attempt). */
  onStart?: (machine: BuildMachine) => void;
  /** Gets why each attempt went to its machine (explainChoice), for `-v`. */
  explain?: (text: string) => void;
  /** Options of a local build of this request (default the local machine's own). */
  local?: LocalBuildOptions;
  /** Options sent with a remote build of this request (default the machine's own). */
  remote?: BuildOptions;
}

/** A place builds can run: the local machine, or a remote builder. */
export interface BuildMachine {
  readonly name: string;
  readonly isLocal: boolean;
  readonly systems: string[];
  readonly maxJobs: number;
  readonly speedFactor: number;
  readonly supportedFeatures: string[];
  readonly mandatoryFeatures: string[];
  /** Resolves with the build's result; rejects with MachineFailure when the machine, not the build, failed. */
  build(req: BuildRequest, ctx: BuildContext): Promise<BuildResult>;
}

/** The machine (connection, remote process, disk) failed; the build itself may succeed elsewhere. */
export class MachineFailure extends Error {
  readonly code = 'MACHINE_FAILURE';
  constructor(
    message: string,
    readonly opts: { permanent?: boolean; retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'MachineFailure';
  }
}

export interface SchedulerOptions {
  /** How many times one derivation may be moved to another machine after a machine failure. */
  maxRetries?: number;
  /** How long to wait for a temporarily-down machine when it is the only one that could build. */
  maxWaitForDownMs?: number;
  health?: MachineHealth;
  /** Messages for the user (one line each): retries, machines marked down. */
  notice?: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Scheduler {
  readonly health: MachineHealth;
  readonly #running = new Map<string, number>();
  #waiters: (() => void)[] = [];
  readonly #maxRetries: number;
  readonly #maxWaitForDownMs: number;
  readonly #notice: (line: string) => void;
  /** Highest number of builds seen running at once on each machine (for tests and `builders list`). */
  readonly peak = new Map<string, number>();

  constructor(
    readonly machines: BuildMachine[],
    opts: SchedulerOptions = {},
  ) {
    this.health = opts.health ?? new MachineHealth();
    this.#maxRetries = opts.maxRetries ?? 3;
    this.#maxWaitForDownMs = opts.maxWaitForDownMs ?? 30_000;
    this.#notice = opts.notice ?? ((l) => process.stderr.write(l + '\n'));
  }

  running(name: string): number {
    return this.#running.get(name) ?? 0;
  }

  #candidates(excluded: Map<string, string>, ctx: BuildContext): Candidate[] {
    return this.machines.map((m) => ({
      name: m.name,
      isLocal: m.isLocal,
      systems: m.systems,
      maxJobs: m.maxJobs,
      speedFactor: m.speedFactor,
      supportedFeatures: m.supportedFeatures,
      mandatoryFeatures: m.mandatoryFeatures,
      running: this.running(m.name),
      unavailable: excluded.get(m.name) ?? ctx.exclude?.(m) ?? this.health.unavailable(m.name),
    }));
  }

  #waitForSlot(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  #release(name: string): void {
    this.#running.set(name, this.running(name) - 1);
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r();
  }

  /** Builds one derivation somewhere; the executor the DAG calls. */
  async build(req: BuildRequest, ctx: BuildContext): Promise<BuildResult> {
    const requirements: Requirements = {
      system: req.system,
      requiredFeatures: req.requiredFeatures,
      preferLocal: req.preferLocal ?? false,
      // As in Nix 2.8 (DerivationGoal's buildLocally), checks and repairs never go to the hook.
      localOnly: (req.check ?? false) || (req.repair ?? false),
    };
    /** Machines that failed this very build: not used again for it. */
    const excluded = new Map<string, string>();
    let retries = 0;
    const waitStart = Date.now();
    for (;;) {
      const placement = chooseMachine(this.#candidates(excluded, ctx), requirements);
      if (placement.kind === 'busy') {
        await this.#waitForSlot();
        continue;
      }
      if (placement.kind === 'impossible') {
        const downNames = this.machines
          .filter((m) => !excluded.has(m.name) && ctx.exclude?.(m) === undefined)
          .map((m) => m.name);
        const retryIn = this.health.nextRetryIn(downNames);
        if (retryIn !== undefined && Date.now() - waitStart + retryIn <= this.#maxWaitForDownMs) {
          await Promise.race([sleep(Math.max(retryIn, 10)), this.#waitForSlot()]);
          continue;
        }
        return immediateResult(
          BuildStatus.MiscFailure,
          explainRejections(req.drvPath, requirements, placement.rejections),
        );
      }
      ctx.explain?.(explainChoice(req.drvPath, placement.machine, placement.passedOver));
      const m = this.machines.find((x) => x.name === placement.machine.name)!;
      const now = this.running(m.name) + 1;
      this.#running.set(m.name, now);
      this.peak.set(m.name, Math.max(this.peak.get(m.name) ?? 0, now));
      try {
        ctx.onStart?.(m);
        const result = await m.build(req, ctx);
        if (!m.isLocal) this.health.markUp(m.name);
        return result;
      } catch (e) {
        if (!(e instanceof MachineFailure)) throw e;
        this.health.markDown(m.name, e.message, { permanent: e.opts.permanent });
        excluded.set(m.name, `failed during this build: ${e.message}`);
        retries++;
        if (retries > this.#maxRetries) {
          return immediateResult(
            BuildStatus.MiscFailure,
            `build of '${req.drvPath}' failed on ${retries} machines; last on '${m.name}': ${e.message}`,
          );
        }
        (ctx.notice ?? this.#notice)(
          `tix: lost '${m.name}' while building '${req.drvPath}' (${e.message}); retrying on another machine`,
        );
      } finally {
        this.#release(m.name);
      }
    }
  }
}
