// Float formatting exactly as Nix 2.8 does it. Rounding is done on the exact binary value with
// ties to even, as glibc's printf does (JavaScript's toPrecision/toFixed round ties up).
// - formatFloat: printing a value and toJSON (std::ostream default: "%g", 6 significant digits),
//   e.g. 1 → "1", 123456789 → "1.23457e+08", 1e-5 → "1e-05", inf → "inf", NaN → "-nan"/"nan";
// - floatToString: toString and string interpolation (std::to_string: "%f"), e.g. 1 → "1.000000".

/** The exact value of a finite, non-negative double as digits × 10^exp. */
function exactDecimal(x: number): { digits: bigint; exp: number } {
  if (x === 0) return { digits: 0n, exp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (biased === 0) {
    e2 = -1074;
  } else {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  if (e2 >= 0) return { digits: mant << BigInt(e2), exp: 0 };
  return { digits: mant * 5n ** BigInt(-e2), exp: e2 };
}

/** Divides by 10^k (k >= 0) rounding half to even. */
function roundDiv(n: bigint, k: number): bigint {
  if (k <= 0) return n * 10n ** BigInt(-k);
  const d = 10n ** BigInt(k);
  const q = n / d;
  const r = n % d;
  const twice = 2n * r;
  if (twice > d || (twice === d && q % 2n === 1n)) return q + 1n;
  return q;
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return isNegative(x) ? '-nan' : 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return undefined;
}

function isNegative(x: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return (view.getUint8(0) & 0x80) !== 0;
}

/** printf("%.{precision}g", x). */
export function formatG(x: number, precision = 6): string {
  const s = special(x);
  if (s !== undefined) return s;
  const sign = isNegative(x) ? '-' : '';
  const ax = Math.abs(x);
  const P = precision === 0 ? 1 : precision;
  if (ax === 0) return `${sign}0`;
  const { digits, exp } = exactDecimal(ax);
  const len = digits.toString().length;
  let X = len - 1 + exp;
  let n = roundDiv(digits, len - P);
  if (n.toString().length > P) {
    n /= 10n;
    X++;
  }
  const ds = n.toString();
  let out: string;
  if (X < P && X >= -4) {
    if (X >= 0) {
      const frac = ds.slice(X + 1).replace(/0+$/, '');
      out = ds.slice(0, X + 1) + (frac ? `.${frac}` : '');
    } else {
      out = `0.${'0'.repeat(-X - 1)}${ds.replace(/0+$/, '')}`;
    }
  } else {
    const frac = ds.slice(1).replace(/0+$/, '');
    const e = Math.abs(X).toString().padStart(2, '0');
    out = `${ds[0]}${frac ? `.${frac}` : ''}e${X < 0 ? '-' : '+'}${e}`;
  }
  return sign + out;
}

/** How Nix 2.8 prints a float (nix-instantiate --eval, trace, error messages, toJSON, toXML). */
export function formatFloat(x: number): string {
  return formatG(x, 6);
}

/** printf("%f", x): what Nix 2.8's toString and "${…}" give for a float. */
export function floatToString(x: number): string {
  const s = special(x);
  if (s !== undefined) return s;
  const sign = isNegative(x) ? '-' : '';
  const { digits, exp } = exactDecimal(Math.abs(x));
  const n = roundDiv(digits, -exp - 6)
    .toString()
    .padStart(7, '0');
  return `${sign}${n.slice(0, -6)}.${n.slice(-6)}`;
}
