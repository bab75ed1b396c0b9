// tix's version, and the string it gives where Nix gives its own version (the worker protocol's
// daemon version, `tix store ping`): Nix 2.8's, which it speaks, with tix's after it.
export const TIX_VERSION = '0.1.0';
export const NIX_VERSION_STRING = `2.8.0 (tix ${TIX_VERSION})`;
