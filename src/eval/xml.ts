// toXML / `nix-instantiate --eval --xml` output, as Nix 2.8's printValueAsXML writes it.
import { coerceToString } from './coerce.js';
import { isDerivation } from './ops.js';
import type { Pos } from './source.js';
import type { EvalState } from './state.js';
import { formatFloat } from './text/float.js';
import { Attrs, force, Lambda, NixFloat, NixPath, NixStr, Thunk, type Value } from './value.js';

/** An attribute value as Nix 2.8 escapes it: `" < > &` and newlines only (tabs and CRs stay raw). */
function esc(s: string): string {
  let out = '';
  for (const c of s) {
    if (c === '"') out += '&quot;';
    else if (c === '<') out += '&lt;';
    else if (c === '>') out += '&gt;';
    else if (c === '&') out += '&amp;';
    else if (c === '\n') out += '&#xA;';
    else out += c;
  }
  return out;
}

type XmlAttrs = [string, string][];

export function toXML(
  state: EvalState,
  t: Value | Thunk,
  opts: { strict: boolean; location: boolean },
  ctx: Set<string>,
  pos?: Pos,
): string {
  const lines: string[] = ["<?xml version='1.0' encoding='utf-8'?>"];
  let depth = 0;
  const attrText = (a: XmlAttrs) =>
    a
      .slice()
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .map(([k, v]) => ` ${k}="${esc(v)}"`)
      .join('');
  const empty = (name: string, a: XmlAttrs = []) =>
    lines.push(`${'  '.repeat(depth)}<${name}${attrText(a)} />`);
  const open = (name: string, a: XmlAttrs = []) => {
    lines.push(`${'  '.repeat(depth)}<${name}${attrText(a)}>`);
    depth++;
  };
  const close = (name: string) => {
    depth--;
    lines.push(`${'  '.repeat(depth)}</${name}>`);
  };
  const posAttrs = (p: Pos | undefined): XmlAttrs => {
    if (!p || !opts.location) return [];
    const { line, col } = p.src.lineCol(p.off);
    return [
      ['path', p.src.path ?? p.src.text],
      ['line', String(line)],
      ['column', String(col)],
    ];
  };
  const drvsSeen = new Set<string>();
  const showAttrs = (a: Attrs) => {
    for (const k of a.sortedNames()) {
      open('attr', [['name', k], ...posAttrs(a.pos?.get(k))]);
      go(a.m.get(k)!);
      close('attr');
    }
  };
  const go = (x: Value | Thunk): void => {
    if (x instanceof Thunk) {
      if (opts.strict) x.force();
      if (!x.forced) {
        empty('unevaluated');
        return;
      }
      x = x.v;
    }
    const v = x;
    if (typeof v === 'number' || typeof v === 'bigint') empty('int', [['value', String(v)]]);
    else if (typeof v === 'boolean') empty('bool', [['value', v ? 'true' : 'false']]);
    else if (typeof v === 'string') empty('string', [['value', v]]);
    else if (v instanceof NixStr) {
      v.addContextTo(ctx);
      empty('string', [['value', v.s]]);
    } else if (v === null) empty('null');
    else if (v instanceof NixFloat) empty('float', [['value', formatFloat(v.v)]]);
    else if (v instanceof NixPath) empty('path', [['value', v.p]]);
    else if (Array.isArray(v)) {
      open('list');
      for (const e of v) go(e);
      close('list');
    } else if (v instanceof Attrs) {
      if (isDerivation(v)) {
        const a: XmlAttrs = [];
        let drvPath = '';
        for (const key of ['drvPath', 'outPath']) {
          const e = v.m.get(key);
          if (e === undefined) continue;
          const ev = opts.strict ? force(e) : e instanceof Thunk ? (e.forced ? e.v : undefined) : e;
          if (typeof ev === 'string' || ev instanceof NixStr) {
            const s = coerceToString(state, ev, ctx, { copyToStore: false }, pos);
            a.push([key, s]);
            if (key === 'drvPath') drvPath = s;
          }
        }
        open('derivation', a);
        if (drvPath !== '' && !drvsSeen.has(drvPath)) {
          drvsSeen.add(drvPath);
          showAttrs(v);
        } else empty('repeated');
        close('derivation');
      } else {
        open('attrs');
        showAttrs(v);
        close('attrs');
      }
    } else if (v instanceof Lambda) {
      open('function', posAttrs(v.info.pos));
      const f = v.info.formals;
      if (f) {
        const a: XmlAttrs = [];
        if (v.info.arg !== undefined) a.push(['name', v.info.arg]);
        if (f.ellipsis) a.push(['ellipsis', '1']);
        open('attrspat', a);
        for (const n of [...f.names].sort()) empty('attr', [['name', n]]);
        close('attrspat');
      } else empty('varpat', [['name', v.info.arg ?? '']]);
      close('function');
    } else empty('unevaluated');
  };
  open('expr');
  go(t);
  close('expr');
  return `${lines.join('\n')}\n`;
}
