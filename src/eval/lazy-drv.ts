// Output contexts of derivations whose .drv path is not computed yet. In read-only evaluation
// (nix-instantiate --eval, tix eval) no .drv is written, and the outputs' paths need only the masked
// and modulo hashes of a derivation: its own ATerm, and so its path, matter only to those who read
// `drvPath` or look into a string's context. A derivation made by `derivation` there leaves its
// path for later; its outputs' strings carry a context element standing for `!<output>!<drv>`,
// which this module turns into that element when something needs it (getContext, toFile, an
// error message, a derivation's eager ATerm), computing the path then.
//
// Such an element is `\x01<table>:<index>!<output>`: no context element of another kind begins
// with \x01 (they are store paths, `=` or `!` elements). Strings, sets and everything that only
// carries contexts along treat it as any other element.

/** A derivation whose .drv path may be computed later. */
export interface LazyDrv {
  /** Its hashDerivationModulo (unmasked) as hex: what other derivations' hashes use of it. */
  readonly moduloBase16: string;
  /** Its .drv path (byte string), computed on the first call. */
  drvPathNow(): string;
}

/** The lazy derivations of one evaluation (an EvalState's). */
export class LazyDrvTable {
  private static serials = 0;
  /** Tables by serial; held weakly, so that a finished evaluation's derivations can go. */
  private static live = new Map<number, WeakRef<LazyDrvTable>>();
  private readonly items: LazyDrv[] = [];
  readonly #prefix: string;

  constructor() {
    const serial = LazyDrvTable.serials++;
    this.#prefix = `\x01${serial}:`;
    for (const [s, ref] of LazyDrvTable.live) if (ref.deref() === undefined) LazyDrvTable.live.delete(s);
    LazyDrvTable.live.set(serial, new WeakRef(this));
  }

  /** Registers `d`; its outputs' context elements are the returned key, `!` and the output name. */
  add(d: LazyDrv): string {
    this.items.push(d);
    return `${this.#prefix}${this.items.length - 1}`;
  }

  static find(element: string): { drv: LazyDrv; output: string } {
    const colon = element.indexOf(':');
    const bang = element.indexOf('!', colon);
    const table = LazyDrvTable.live.get(Number(element.slice(1, colon)))?.deref();
    const drv = table?.items[Number(element.slice(colon + 1, bang))];
    // Elements are made by add() and live in values of the evaluation that holds the table.
    if (drv === undefined) throw new Error(`unknown lazy derivation context element '${element.slice(1)}'`);
    return { drv, output: element.slice(bang + 1) };
  }
}

/** Whether a context element stands for the output of a lazy derivation. */
export function isLazyOutput(element: string): boolean {
  return element.charCodeAt(0) === 1;
}

/** The derivation and output a lazy element stands for. */
export function lazyOutput(element: string): { drv: LazyDrv; output: string } {
  return LazyDrvTable.find(element);
}

/** A context element as Nix has it: a lazy one becomes `!<output>!<drv>` (computing the path). */
export function explicitElement(element: string): string {
  if (!isLazyOutput(element)) return element;
  const { drv, output } = lazyOutput(element);
  return `!${output}!${drv.drvPathNow()}`;
}

/** A context with its lazy elements made explicit (the set itself when it has none). */
export function explicitContext(ctx: Set<string>): Set<string> {
  let lazy = false;
  for (const c of ctx) if (isLazyOutput(c)) lazy = true;
  if (!lazy) return ctx;
  const out = new Set<string>();
  for (const c of ctx) out.add(explicitElement(c));
  return out;
}
