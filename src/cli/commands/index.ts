// Every `tix` subcommand: the words that select it and the module that runs it. Add new commands
// here. A command's module is imported only when it runs, so that starting `tix eval` does not
// load (in the bundle: initialise) the store, build and server code, nor their native addons.
import type { Command } from '../command.js';

/** A subcommand as dispatch sees it; `load` resolves to the command whose `name` is the same. */
export interface CommandEntry {
  name: string[];
  load(): Promise<Command>;
}

const entry = (name: string, load: () => Promise<Command>): CommandEntry => ({ name: name.split(' '), load });

export const commands: CommandEntry[] = [
  entry('store add', async () => (await import('./store-add.js')).storeAdd),
  entry('store dump', async () => (await import('./store-dump.js')).storeDump),
  entry('store restore', async () => (await import('./store-restore.js')).storeRestore),
  entry('store gc', async () => (await import('./store-gc.js')).storeGc),
  entry('store delete', async () => (await import('./store-delete.js')).storeDelete),
  entry('store optimise', async () => (await import('./store-optimise.js')).storeOptimise),
  entry('store verify', async () => (await import('./store-verify.js')).storeVerify),
  entry('store query', async () => (await import('./store-query.js')).storeQuery),
  entry('store check-validity', async () => (await import('./store-query.js')).storeCheckValidity),
  entry('store dump-db', async () => (await import('./store-db.js')).storeDumpDb),
  entry('store load-db', async () => (await import('./store-db.js')).storeLoadDb),
  entry('store register-validity', async () => (await import('./store-db.js')).storeRegisterValidity),
  entry('store export', async () => (await import('./store-export.js')).storeExport),
  entry('store ping', async () => (await import('./store-ping.js')).storePing),
  entry('store repair', async () => (await import('./store-repair.js')).storeRepair),
  entry('prefetch-url', async () => (await import('./prefetch-url.js')).prefetchUrl),
  entry('store print-env', async () => (await import('./store-repair.js')).storePrintEnv),
  entry('store import', async () => (await import('./store-export.js')).storeImport),
  entry('hash path', async () => (await import('./hash-path.js')).hashPath),
  entry('hash file', async () => (await import('./hash-path.js')).hashFile),
  entry('hash to-base16', async () => (await import('./hash-convert.js')).hashToBase16),
  entry('hash to-base32', async () => (await import('./hash-convert.js')).hashToBase32),
  entry('hash to-base64', async () => (await import('./hash-convert.js')).hashToBase64),
  entry('hash to-sri', async () => (await import('./hash-convert.js')).hashToSri),
  entry('path-info', async () => (await import('./path-info.js')).pathInfo),
  entry('derivation show', async () => (await import('./derivation-show.js')).derivationShow),
  entry('derivation add', async () => (await import('./derivation-add.js')).derivationAdd),
  entry('log', async () => (await import('./log.js')).log),
  entry('store realise', async () => (await import('./store-realise.js')).storeRealise),
  entry('build', async () => (await import('./build.js')).build),
  entry('shell', async () => (await import('./shell.js')).shell),
  entry('builders list', async () => (await import('./builders.js')).buildersList),
  entry('builders check', async () => (await import('./builders.js')).buildersCheck),
  entry('daemon', async () => (await import('./daemon.js')).daemon),
  entry('eval', async () => (await import('./eval.js')).evalCommand),
  entry('repl', async () => (await import('./repl.js')).replCommand),
  entry('instantiate', async () => (await import('./instantiate.js')).instantiateCommand),
  entry('copy', async () => (await import('./copy.js')).copy),
  entry('copy-closure', async () => (await import('./copy.js')).copyClosureCommand),
  entry('key generate', async () => (await import('./key.js')).keyGenerate),
  entry('key public', async () => (await import('./key.js')).keyPublic),
  entry('store sign', async () => (await import('./store-sign.js')).storeSign),
  entry('cache serve', async () => (await import('./cache-serve.js')).cacheServe),
  entry('show-config', async () => (await import('./show-config.js')).showConfig),
];
