// The `.attrs.json` / `.attrs.sh` files of a structured-attrs derivation, as Nix 2.8 writes them.
import { compareUtf8 } from '../formats/byte-order.js';
import { dumpJson, isJsonInt, isJsonObject, type JsonObject, type JsonValue } from './json.js';

const SH_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Nix's shellEscape: single quotes, with ' written as '\''. */
export function shellEscape(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * 2.8's handleSimpleType. Numbers go through C++ `get<float>()` then `get<int>()`: integers wrap to
 * 32 bits, floats whose float32 rounding is integral are truncated, other floats are skipped.
 */
function simple(v: JsonValue): string | undefined {
  if (typeof v === 'string') return shellEscape(v);
  if (isJsonInt(v)) return String(Number(BigInt.asIntN(32, v.int)));
  if (typeof v === 'number') {
    const f = Math.fround(v);
    if (Math.ceil(f) !== f) return undefined;
    return String(v >= -(2 ** 31) && v < 2 ** 31 ? Math.trunc(v) : -(2 ** 31));
  }
  if (v === null) return "''";
  if (v === true) return '1';
  if (v === false) return '';
  return undefined;
}

/** The text of `.attrs.sh`: one `declare` per shell-safe key whose value is simple enough. */
export function structuredAttrsShell(json: JsonObject): string {
  let out = '';
  for (const key of Object.keys(json).sort(compareUtf8)) {
    if (!SH_VAR_NAME.test(key)) continue;
    const value = json[key]!;
    const s = simple(value);
    if (s !== undefined) {
      out += `declare ${key}=${s}\n`;
    } else if (Array.isArray(value)) {
      const parts: string[] = [];
      for (const v of value) {
        const s3 = simple(v);
        if (s3 === undefined) break;
        parts.push(`${s3} `);
      }
      if (parts.length === value.length) out += `declare -a ${key}=(${parts.join('')})\n`;
    } else if (isJsonObject(value)) {
      const keys = Object.keys(value).sort(compareUtf8);
      const parts: string[] = [];
      for (const k2 of keys) {
        const s3 = simple(value[k2]!);
        if (s3 === undefined) break;
        parts.push(`[${shellEscape(k2)}]=${s3} `);
      }
      if (parts.length === keys.length) out += `declare -A ${key}=(${parts.join('')})\n`;
    }
  }
  return out;
}

/** `.attrs.json`: the attrs with `outputs` replaced by { name: path }. */
export function structuredAttrsJson(json: JsonObject): string {
  return dumpJson(json);
}
