// The Nix abstract syntax tree produced by the parser. Offsets index into the node's Source.

export type AttrName = { s: string } | { e: Expr };

export interface AttrDef {
  e: Expr;
  off: number;
  /** `inherit x;` (from the enclosing scope) or `inherit (src) x;`. */
  inherit?: 'scope' | 'from';
}

export interface DynAttrDef {
  name: Expr;
  e: Expr;
  off: number;
}

export interface Formal {
  name: string;
  def?: Expr;
  off: number;
}

// `shown`: the expression as Nix 2.8's parser keeps it, where that differs from what is evaluated
// (an indented string keeps one piece per token); used to show the expression (show-expr.ts).
export type Expr =
  | { k: 'int'; off: number; v: number | bigint }
  | { k: 'float'; off: number; v: number }
  | { k: 'str'; off: number; v: string; shown?: Expr }
  | { k: 'path'; off: number; v: string }
  // `partOffs`: where each part's errors point, when not at the part itself (an interpolated part's
  // errors point at its `${`, as Nix's do).
  | { k: 'concat'; off: number; parts: Expr[]; forceString: boolean; shown?: Expr; partOffs?: number[] }
  | { k: 'var'; off: number; name: string }
  | { k: 'curpos'; off: number }
  | { k: 'select'; off: number; e: Expr; path: AttrName[]; def?: Expr }
  | { k: 'hasattr'; off: number; e: Expr; path: AttrName[] }
  | {
      k: 'attrs';
      off: number;
      rec: boolean;
      attrs: Map<string, AttrDef>;
      dyn: DynAttrDef[];
      /** Sources of `inherit (e)` groups, referenced by AttrDef.e of kind 'inheritFrom'. */
      inheritFrom: Expr[];
      /** The `{` of a set literal: its value's position (none for `a.b = …`'s implicit sets). */
      at?: number;
    }
  | { k: 'inheritFrom'; off: number; index: number; name: string }
  | { k: 'list'; off: number; elems: Expr[] }
  | {
      k: 'lambda';
      off: number;
      arg?: string;
      formals?: { list: Formal[]; ellipsis: boolean };
      body: Expr;
      name?: string;
    }
  | { k: 'call'; off: number; f: Expr; args: Expr[] }
  | { k: 'let'; off: number; attrs: Expr & { k: 'attrs' }; body: Expr }
  | { k: 'with'; off: number; env: Expr; body: Expr }
  | { k: 'if'; off: number; cond: Expr; yes: Expr; no: Expr }
  | { k: 'assert'; off: number; cond: Expr; body: Expr }
  | { k: 'not'; off: number; e: Expr }
  | { k: 'neg'; off: number; e: Expr }
  | { k: 'bin'; off: number; op: BinOp; l: Expr; r: Expr };

export type BinOp =
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '->'
  | '//'
  | '++'
  | '-'
  | '*'
  | '/';

export type AttrsExpr = Expr & { k: 'attrs' };
