// import() of a module named at run time (an EvalIO module given by URL). A module of its own so
// that scripts/bundle.mjs can leave it out of the code-cached bundle: in Node 20, import() fails
// in code that V8 loaded from a code cache.
export function importModule(specifier: string): Promise<unknown> {
  return import(specifier);
}
