// Choosing a machine for a derivation: Nix's build-hook rules (system, supported and mandatory
// features; least load/speed, then highest speed, then least load), extended with machines that are
// down (with a reason) and one explanation listing every machine that was passed over and why.

/** What placement needs to know about one machine (local or remote). */
export interface Candidate {
  /** Display name: the store URI as written, or "local". */
  name: string;
  systems: string[];
  maxJobs: number;
  speedFactor: number;
  supportedFeatures: string[];
  mandatoryFeatures: string[];
  /** Builds currently running there (shared by every build of this process or daemon). */
  running: number;
  /** Set when the machine may not be used now: "down since …", "host key mismatch", … */
  unavailable?: string;
  /** The local machine ranks below every remote one unless it is the only choice. */
  isLocal: boolean;
}

export interface Requirements {
  system: string;
  requiredFeatures: string[];
  /**
   * `preferLocalBuild`: as Nix does, such a derivation is built here whenever this machine can
   * build it and has slots (max-jobs > 0), and only offloaded otherwise.
   */
  preferLocal?: boolean;
  /** Only this machine may build it (`--check`, which compares with outputs in the local store). */
  localOnly?: boolean;
}

export type Rejection = { machine: string; reason: string };

export type Placement =
  /** `passedOver`: every other machine and why it was not taken (for explainChoice). */
  | { kind: 'chosen'; machine: Candidate; passedOver: Rejection[] }
  /** Some machine could take it but all such are busy: wait for a slot. */
  | { kind: 'busy'; rejections: Rejection[] }
  /** No machine can ever take it (as things stand). */
  | { kind: 'impossible'; rejections: Rejection[] };

function systemSupported(c: Candidate, system: string): boolean {
  return system === 'builtin' || c.systems.includes(system);
}

/** Why a machine can never build this derivation, or undefined when it could. */
export function incompatibility(c: Candidate, req: Requirements): string | undefined {
  if (!systemSupported(c, req.system)) {
    return `system '${req.system}' not in [${c.systems.join(', ')}]`;
  }
  const missing = req.requiredFeatures.filter(
    (f) => !c.supportedFeatures.includes(f) && !c.mandatoryFeatures.includes(f),
  );
  if (missing.length > 0) return `missing feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
  const unmet = c.mandatoryFeatures.filter((f) => !req.requiredFeatures.includes(f));
  if (unmet.length > 0) {
    return `mandatory feature${unmet.length > 1 ? 's' : ''} ${unmet.join(', ')} not required by the derivation`;
  }
  return undefined;
}

/** True when `a` is a better choice than `b` (Nix's comparison, with exact division). */
function better(a: Candidate, b: Candidate): boolean {
  if (a.isLocal !== b.isLocal) return !a.isLocal;
  const la = a.running / a.speedFactor;
  const lb = b.running / b.speedFactor;
  if (la !== lb) return la < lb;
  if (a.speedFactor !== b.speedFactor) return a.speedFactor > b.speedFactor;
  return a.running < b.running;
}

export function chooseMachine(candidates: Candidate[], req: Requirements): Placement {
  if (req.localOnly) candidates = candidates.filter((c) => c.isLocal);
  const rejections: Rejection[] = [];
  if (req.preferLocal) {
    const local = candidates.filter(
      (c) => c.isLocal && c.maxJobs > 0 && !c.unavailable && incompatibility(c, req) === undefined,
    );
    if (local.length > 0) {
      for (const c of candidates)
        if (!c.isLocal) rejections.push({ machine: c.name, reason: 'the derivation prefers local builds' });
      candidates = local;
    }
  }
  const eligible: Candidate[] = [];
  let best: Candidate | undefined;
  let someoneCould = false;
  for (const c of candidates) {
    const why = incompatibility(c, req);
    if (why) {
      rejections.push({ machine: c.name, reason: why });
      continue;
    }
    if (c.unavailable) {
      rejections.push({ machine: c.name, reason: c.unavailable });
      continue;
    }
    if (c.maxJobs <= 0) {
      rejections.push({
        machine: c.name,
        reason: c.isLocal ? 'local builds disabled (max-jobs = 0)' : 'maxJobs is 0',
      });
      continue;
    }
    someoneCould = true;
    if (c.running >= c.maxJobs) {
      rejections.push({ machine: c.name, reason: `busy (${c.running}/${c.maxJobs} jobs)` });
      continue;
    }
    eligible.push(c);
    if (!best || better(c, best)) best = c;
  }
  if (best) {
    const chosen = best;
    const worse = eligible
      .filter((c) => c !== chosen)
      .map((c) => ({ machine: c.name, reason: whyNot(c, chosen) }));
    return { kind: 'chosen', machine: chosen, passedOver: [...worse, ...rejections] };
  }
  return someoneCould ? { kind: 'busy', rejections } : { kind: 'impossible', rejections };
}

/** A machine's load as placement weighs it. */
function loadText(c: Candidate): string {
  return `${c.running}/${c.maxJobs} jobs, speed factor ${c.speedFactor}`;
}

/** Why `c`, which could have built the derivation, ranked below `chosen` (by `better`'s rules). */
function whyNot(c: Candidate, chosen: Candidate): string {
  if (c.isLocal && !chosen.isLocal) return `remote machines come first (${loadText(c)})`;
  if (c.running / c.speedFactor !== chosen.running / chosen.speedFactor)
    return `more loaded (${loadText(c)})`;
  // (The same load per speed at the same speed is the same number of jobs.)
  if (c.speedFactor !== chosen.speedFactor) return `slower (${loadText(c)})`;
  return `as good, listed later (${loadText(c)})`;
}

/** Why a derivation went where it went: the machine's load, then every other machine's reason. */
export function explainChoice(drvPath: string, chosen: Candidate, passedOver: Rejection[]): string {
  const lines = passedOver.map((r) => `\n  ${r.machine}: ${r.reason}`);
  return `placing '${drvPath}' on '${chosen.name}' (${loadText(chosen)})${lines.join('')}`;
}

/** One message naming every machine and why it cannot build the derivation. */
export function explainRejections(drvPath: string, req: Requirements, rejections: Rejection[]): string {
  const feats = req.requiredFeatures.length > 0 ? ` with features [${req.requiredFeatures.join(', ')}]` : '';
  if (rejections.length === 0) {
    return `no machine can build '${drvPath}' (system '${req.system}'${feats}): no machines are configured and local builds are disabled`;
  }
  const lines = rejections.map((r) => `  ${r.machine}: ${r.reason}`);
  return `no machine can build '${drvPath}' (system '${req.system}'${feats}):\n${lines.join('\n')}`;
}
