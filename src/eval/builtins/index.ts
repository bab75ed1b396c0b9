// Registers every builtin of Nix 2.8 into an EvalState's base environment.
import type { BuiltinDef, ConstDef, EvalState } from '../state.js';
import { registerAttrs } from './attrs.js';
import { registerBasic } from './basic.js';
import { registerData } from './data.js';
import { registerDerivation } from './derivation.js';
import { registerFetch } from './fetch.js';
import { registerFiles } from './files.js';
import { registerLists } from './lists.js';
import { registerStrings } from './strings.js';

export function registerBuiltins(state: EvalState, defs: BuiltinDef[], consts: ConstDef[]): void {
  registerBasic(state, defs, consts);
  registerLists(state, defs);
  registerAttrs(state, defs);
  registerStrings(state, defs);
  registerData(state, defs);
  registerFiles(state, defs, consts);
  registerFetch(state, defs);
  registerDerivation(state, defs, consts);
}
