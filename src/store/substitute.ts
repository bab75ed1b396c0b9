// Substitution: fetching store paths from binary caches (the `substituters` setting) instead of
// building them. For every wanted path that is not valid locally, the substituters are asked in
// priority order (nix-cache-info `Priority`, lower first; ties keep the setting's order); a cache's
// narinfo counts only if it is trusted (`require-sigs`: content-addressed or signed by a key in
// `trusted-public-keys`). A path is substitutable when its whole closure is (locally valid or
// substitutable). Downloads run in parallel, bounded, each after its references; the local store
// checks NAR hash and size and registers nothing that fails.
import { compareUtf8 } from '../formats/byte-order.js';
import { StoreError } from './errors.js';
import { isTrusted } from './signatures.js';
import type { Store, ValidPathInfo } from './store.js';

export interface SubstituteSettings {
  /** Store URIs in the order of the `substituters` setting. */
  substituters: string[];
  trustedPublicKeys: string[];
  requireSigs: boolean;
  /** Parallel downloads (default 4). */
  maxJobs?: number;
  /** Tries per substituter of a download that fails for other reasons than bad contents (default 1). */
  downloadAttempts?: number;
  /** Opens a substituter (openStore with the caller's settings). */
  openStore: (uri: string) => Promise<Store>;
  /** Progress, as Nix prints it: "copying path '…' from '…'...". */
  onLog?: (line: string) => void;
}

export interface SubstituteResult {
  /** Paths that are now valid because they (or their closure) were fetched, in fetch order. */
  substituted: string[];
  /** Wanted paths that no substituter offers with a complete, trusted closure: build them. */
  missing: string[];
  /** Wanted paths whose substitution was refused or failed (bad signature, hash mismatch, I/O): the reason. */
  failed: Map<string, StoreError>;
}

interface Substituter {
  uri: string;
  store: Store;
  priority: number;
}

interface Candidate {
  sub: Substituter;
  info: ValidPathInfo;
}

async function openSubstituters(
  settings: SubstituteSettings,
  log: (l: string) => void,
): Promise<Substituter[]> {
  const out: Substituter[] = [];
  for (const uri of settings.substituters) {
    try {
      const store = await settings.openStore(uri);
      const priority = (store as { priority?: number }).priority ?? 50;
      out.push({ uri, store, priority });
    } catch (e) {
      log(`warning: substituter '${uri}' is unusable: ${(e as Error).message}`);
    }
  }
  // Stable sort: equal priorities keep the setting's order.
  return out.sort((a, b) => a.priority - b.priority);
}

function trustOf(local: Store, settings: SubstituteSettings) {
  return {
    storeDir: local.storeDir,
    requireSigs: settings.requireSigs,
    trustedPublicKeys: settings.trustedPublicKeys,
  };
}

/**
 * The first of the substituters (from index `from` on) offering `path` with a trusted narinfo.
 * A substituter whose narinfo cannot be read or is not trusted is skipped; `onRefused` hears why.
 */
async function findTrusted(
  path: string,
  subs: Substituter[],
  from: number,
  trust: ReturnType<typeof trustOf>,
  onRefused: (e: StoreError) => void = () => {},
): Promise<Candidate | undefined> {
  for (let i = from; i < subs.length; i++) {
    const sub = subs[i]!;
    let info: ValidPathInfo | undefined;
    try {
      info = await sub.store.queryPathInfo(path);
    } catch (e) {
      onRefused(asStoreError(e, path, sub.uri));
      continue;
    }
    if (!info) continue;
    if (!isTrusted(info, trust)) {
      onRefused(
        new StoreError(
          'SIGNATURE',
          `cannot substitute '${path}' from '${sub.uri}': it lacks a valid signature by a trusted key`,
        ),
      );
      continue;
    }
    return { sub, info };
  }
  return undefined;
}

/** What a substituter offers for a path (Nix's SubstitutablePathInfo). */
export interface SubstitutableInfo {
  deriver?: string;
  references: string[];
  /** Bytes to download: the narinfo's FileSize (0 when the substituter does not say). */
  downloadSize: number;
  narSize: number;
}

/**
 * Nix's querySubstitutablePathInfos: for each of `paths` not valid in `local`, what the first
 * substituter (in priority order) with a trusted narinfo offers. Paths nobody offers are left
 * out. Unlike Nix 2.8, which lists untrusted narinfos too, only what would really be substituted
 * is listed; like Nix, the closure is not checked here.
 */
export async function querySubstitutable(
  local: Store,
  paths: Iterable<string>,
  settings: SubstituteSettings,
  opts: { massQuery?: boolean } = {},
): Promise<Map<string, SubstitutableInfo>> {
  const log = settings.onLog ?? (() => {});
  const out = new Map<string, SubstitutableInfo>();
  const wanted = [...new Set(paths)];
  const valid = await local.queryValidPaths(wanted);
  const targets = wanted.filter((p) => !valid.has(p));
  if (targets.length === 0) return out;
  const opened = await openSubstituters(settings, log);
  // A mass query (QuerySubstitutablePaths) asks only the substituters that want one, as 2.8 does.
  const subs = opts.massQuery
    ? opened.filter((s) => (s.store as { wantMassQuery?: boolean }).wantMassQuery === true)
    : opened;
  const trust = trustOf(local, settings);
  try {
    await Promise.all(
      targets.map(async (path) => {
        const c = await findTrusted(path, subs, 0, trust);
        if (!c) return;
        const narInfo = await (c.sub.store as NarInfoStore).queryNarInfo?.(path).catch(() => undefined);
        out.set(path, {
          deriver: c.info.deriver,
          references: c.info.references,
          downloadSize: narInfo?.fileSize ?? 0,
          narSize: c.info.narSize,
        });
      }),
    );
  } finally {
    await Promise.all(opened.map((s) => s.store.close()));
  }
  return out;
}

type NarInfoStore = Store & { queryNarInfo?: (path: string) => Promise<{ fileSize?: number } | undefined> };

/** Bounded parallelism. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Makes `paths` valid in `local` by fetching them and their closures from the substituters.
 * Paths already valid are neither substituted nor reported.
 */
export async function substitutePaths(
  local: Store,
  paths: Iterable<string>,
  settings: SubstituteSettings,
): Promise<SubstituteResult> {
  const log = settings.onLog ?? (() => {});
  const wanted = [...new Set(paths)].sort(compareUtf8);
  const result: SubstituteResult = { substituted: [], missing: [], failed: new Map() };
  const valid = await local.queryValidPaths(wanted);
  const targets = wanted.filter((p) => !valid.has(p));
  if (targets.length === 0) return result;
  const subs = await openSubstituters(settings, log);
  try {
    return await substituteWith(local, targets, subs, settings, result);
  } finally {
    await Promise.all(subs.map((s) => s.store.close()));
  }
}

async function substituteWith(
  local: Store,
  targets: string[],
  subs: Substituter[],
  settings: SubstituteSettings,
  result: SubstituteResult,
): Promise<SubstituteResult> {
  const log = settings.onLog ?? (() => {});
  /** Why a path has no candidate, when a substituter had it but was refused. */
  const refused = new Map<string, StoreError>();
  const findCandidate = (path: string, from: number) =>
    findTrusted(path, subs, from, trustOf(local, settings), (e) => refused.set(path, e));

  // Plan: the closure of every target, under the candidates' references.
  const plan = new Map<string, Candidate | undefined>();
  const locallyValid = new Set<string>();
  let frontier = [...targets];
  while (frontier.length > 0) {
    const found = await Promise.all(frontier.map((p) => findCandidate(p, 0)));
    const next = new Set<string>();
    frontier.forEach((p, i) => {
      plan.set(p, found[i]);
      for (const r of found[i]?.info.references ?? []) if (r !== p && !plan.has(r)) next.add(r);
    });
    const nextList = [...next].filter((r) => !plan.has(r));
    const validNow = await local.queryValidPaths(nextList);
    for (const r of validNow) locallyValid.add(r);
    frontier = nextList.filter((r) => !validNow.has(r));
  }

  // A path is substitutable when it has a candidate and each reference is valid or substitutable.
  const complete = new Map<string, boolean>();
  const isComplete = (p: string): boolean => {
    if (locallyValid.has(p)) return true;
    const known = complete.get(p);
    if (known !== undefined) return known;
    complete.set(p, false); // guards against reference cycles between distinct paths
    const c = plan.get(p);
    const ok = c?.info.references.every((r) => r === p || isComplete(r)) ?? false;
    complete.set(p, ok);
    return ok;
  };

  /** The refusal that makes `p` unsubstitutable, if a refusal (not plain absence) is the cause. */
  const whyIncomplete = (p: string, seen: Set<string>): StoreError | undefined => {
    if (seen.has(p) || isComplete(p)) return undefined;
    seen.add(p);
    const c = plan.get(p);
    if (!c) return refused.get(p);
    for (const r of c.info.references) {
      const inner = r === p ? undefined : whyIncomplete(r, seen);
      if (inner)
        return new StoreError(inner.code, `cannot substitute '${p}': ${inner.message}`, { cause: inner });
    }
    return undefined;
  };

  const limit = limiter(settings.maxJobs ?? 4);
  const fetches = new Map<string, Promise<void>>();
  const fetch = (p: string): Promise<void> => {
    let f = fetches.get(p);
    if (!f) {
      f = (async () => {
        const c = plan.get(p)!;
        const refs = c.info.references.filter((r) => r !== p && !locallyValid.has(r));
        const refResults = await Promise.allSettled(refs.map(fetch));
        const bad = refResults.findIndex((r) => r.status === 'rejected');
        if (bad >= 0) {
          throw new StoreError(
            'SUBSTITUTE',
            `cannot substitute '${p}': ${((refResults[bad] as PromiseRejectedResult).reason as Error).message}`,
            {
              cause: (refResults[bad] as PromiseRejectedResult).reason,
            },
          );
        }
        await limit(() => download(local, p, c, subs, findCandidate, log, settings.downloadAttempts ?? 1));
        result.substituted.push(p);
      })();
      fetches.set(p, f);
    }
    return f;
  };

  await Promise.all(
    targets.map(async (p) => {
      if (!isComplete(p)) {
        const why = whyIncomplete(p, new Set());
        if (why) result.failed.set(p, why);
        else result.missing.push(p);
        return;
      }
      try {
        await fetch(p);
      } catch (e) {
        result.failed.set(p, asStoreError(e, p, plan.get(p)!.sub.uri));
      }
    }),
  );
  result.missing.sort(compareUtf8);
  return result;
}

/** Fetches one path from its candidate, trying later trusted substituters when that fails. */
async function download(
  local: Store,
  path: string,
  first: Candidate,
  subs: Substituter[],
  findCandidate: (path: string, from: number) => Promise<Candidate | undefined>,
  log: (l: string) => void,
  attempts: number,
): Promise<void> {
  let c: Candidate | undefined = first;
  let lastError: StoreError | undefined;
  let attempt = 0;
  while (c) {
    if (attempt === 0) log(`copying path '${path}' from '${c.sub.uri}'...`);
    try {
      await local.addToStoreNar(
        { ...c.info, ultimate: false, registrationTime: 0 },
        c.sub.store.narFromPath(path),
        {
          checkSigs: false,
        },
      );
      return;
    } catch (e) {
      lastError = asStoreError(e, path, c.sub.uri);
      if (await local.isValidPath(path)) return;
      // A failed transfer (not bad contents) is tried again, after a growing pause, as Nix does.
      if (lastError.code === 'IO' && ++attempt < attempts) {
        log(`warning: ${lastError.message}; retrying in ${100 * 2 ** (attempt - 1)} ms`);
        await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
        continue;
      }
      attempt = 0;
      log(`warning: ${lastError.message}`);
    }
    c = await findCandidate(path, subs.indexOf(c.sub) + 1);
  }
  throw lastError!;
}

function asStoreError(e: unknown, path: string, uri: string): StoreError {
  if (e instanceof StoreError) {
    if (e.message.includes(path)) return e;
    return new StoreError(e.code, `cannot substitute '${path}' from '${uri}': ${e.message}`, { cause: e });
  }
  if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError)) {
    return new StoreError('SUBSTITUTE', `cannot substitute '${path}' from '${uri}': ${e.message}`, {
      cause: e,
    });
  }
  throw e;
}
