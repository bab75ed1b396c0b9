// Every `tix` subcommand, one module each. Add new commands here.
import type { Command } from '../command.js';
import { build } from './build.js';
import { buildersCheck, buildersList } from './builders.js';
import { cacheServe } from './cache-serve.js';
import { copy } from './copy.js';
import { daemon } from './daemon.js';
import { derivationAdd } from './derivation-add.js';
import { derivationShow } from './derivation-show.js';
import { evalCommand } from './eval.js';
import { hashToBase16, hashToBase32, hashToBase64, hashToSri } from './hash-convert.js';
import { hashFile, hashPath } from './hash-path.js';
import { instantiateCommand } from './instantiate.js';
import { keyGenerate, keyPublic } from './key.js';
import { log } from './log.js';
import { pathInfo } from './path-info.js';
import { replCommand } from './repl.js';
import { storeAdd } from './store-add.js';
import { storeDelete } from './store-delete.js';
import { storeDump } from './store-dump.js';
import { storeGc } from './store-gc.js';
import { storeOptimise } from './store-optimise.js';
import { storeRealise } from './store-realise.js';
import { storeRestore } from './store-restore.js';
import { storeSign } from './store-sign.js';
import { storeVerify } from './store-verify.js';

export const commands: Command[] = [
  storeAdd,
  storeDump,
  storeRestore,
  storeGc,
  storeDelete,
  storeOptimise,
  storeVerify,
  hashPath,
  hashFile,
  hashToBase16,
  hashToBase32,
  hashToBase64,
  hashToSri,
  pathInfo,
  derivationShow,
  derivationAdd,
  log,
  storeRealise,
  build,
  buildersList,
  buildersCheck,
  daemon,
  evalCommand,
  replCommand,
  instantiateCommand,
  copy,
  keyGenerate,
  keyPublic,
  storeSign,
  cacheServe,
];
