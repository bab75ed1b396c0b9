// The local store's SQLite database: Nix's schema (schema.ts), WAL mode, and the statements the
// store needs. All methods are synchronous (better-sqlite3); a batch registration is one
// transaction.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { compareUtf8 } from '../formats/byte-order.js';
import { StoreError } from './errors.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import type { ValidPathInfo } from './store.js';
import { invalidReference } from './store-paths.js';

/** A row of the path-info statement: the ValidPaths columns, then the references space-joined. */
type PathInfoRow = [
  hash: string,
  registrationTime: number,
  deriver: string | null,
  narSize: number | null,
  ultimate: number | null,
  sigs: string | null,
  ca: string | null,
  refs: string | null,
];

/** The path-info columns, in PathInfoRow's order (one per line). */
const INFO_COLUMNS = `hash,
  registrationTime,
  deriver,
  narSize,
  ultimate,
  sigs,
  ca,
  (select group_concat(r.path, ' ') from Refs join ValidPaths r on reference = r.id where referrer = v.id)`;
const FIELD_SEP_CODE = 0x1f;
const FIELD_SEP = String.fromCharCode(FIELD_SEP_CODE);
/** Most path infos kept in memory (Nix's path-info-cache-size default). */
const INFO_CACHE_SIZE = 65536;

function pathInfoFromRow(path: string, row: PathInfoRow): ValidPathInfo {
  const [hash, registrationTime, deriver, narSize, ultimate, sigs, ca, refs] = row;
  const info: ValidPathInfo = {
    path,
    narHash: hash,
    narSize: narSize ?? 0,
    references: refs ? refs.split(' ').sort(compareUtf8) : [],
    registrationTime,
    ultimate: ultimate === 1,
    sigs: sigs ? sigs.split(' ').filter((s) => s !== '') : [],
  };
  if (deriver) info.deriver = deriver;
  if (ca) info.ca = ca;
  return info;
}

function dbError(action: string, dbPath: string, e: unknown): StoreError {
  return new StoreError('DB', `${action} '${dbPath}': ${(e as Error).message}`, { cause: e });
}

/** Opens (creating if needed) the database in `dbDir` (`db.sqlite` + `schema`). */
export function openStoreDb(dbDir: string, opts: { readOnly?: boolean } = {}): StoreDb {
  const dbPath = join(dbDir, 'db.sqlite');
  const schemaFile = join(dbDir, 'schema');
  if (!opts.readOnly) mkdirSync(dbDir, { recursive: true });
  if (existsSync(schemaFile)) {
    const v = readFileSync(schemaFile, 'utf8').trim();
    if (v !== String(SCHEMA_VERSION)) {
      throw new StoreError('DB', `cannot open database '${dbPath}': unsupported schema version '${v}'`);
    }
  }
  let db: Database.Database;
  try {
    db = new Database(dbPath, { readonly: opts.readOnly ?? false, timeout: 60_000 });
    if (!opts.readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!opts.readOnly) {
      db.exec(`begin immediate;\n${SCHEMA_SQL}\ncommit;`);
      if (!existsSync(schemaFile)) writeFileSync(schemaFile, String(SCHEMA_VERSION));
    }
  } catch (e) {
    throw dbError('cannot open database', dbPath, e);
  }
  return new StoreDb(db, dbPath);
}

/** Prepared statements over one connection. Paths are full logical store paths. */
export class StoreDb {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #s;
  /** Path infos read since the database last changed (see queryPathInfo). */
  readonly #cache = new Map<string, ValidPathInfo>();
  #cacheVersion = -1;

  constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.path = path;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      // One statement (one read transaction) per path info; store paths contain no spaces.
      info: p(`select ${INFO_COLUMNS} from ValidPaths v where v.path = ?`).raw(),
      // The same columns as one text value (one JS string per lookup instead of an array of
      // eight), joined by a control byte that fields do not hold in practice; see #readPathInfo.
      infoText: p(
        `select ${INFO_COLUMNS.split(',\n')
          .map((c) => `coalesce(${c.trim()}, '')`)
          .join(` || char(${FIELD_SEP_CODE}) || `)}
         from ValidPaths v where v.path = ?`,
      ).pluck(),
      id: p('select id from ValidPaths where path = ?').pluck(),
      dataVersion: p('pragma data_version').pluck(),
      insert: p(
        'insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca) values (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: p('update ValidPaths set narSize = ?, hash = ?, ultimate = ?, sigs = ?, ca = ? where path = ?'),
      addRef: p('insert or replace into Refs (referrer, reference) values (?, ?)'),
      referrers: p(
        'select path from Refs join ValidPaths on referrer = id where reference = (select id from ValidPaths where path = ?)',
      ).pluck(),
      invalidate: p('delete from ValidPaths where path = ?'),
      addDrvOut: p('insert or replace into DerivationOutputs (drv, id, path) values (?, ?, ?)'),
      drvOuts: p(
        'select id, path from DerivationOutputs where drv = (select id from ValidPaths where path = ?)',
      ),
      derivers: p(
        'select v.path from DerivationOutputs d join ValidPaths v on d.drv = v.id where d.path = ?',
      ).pluck(),
      all: p('select path from ValidPaths').pluck(),
      fromHashPart: p('select path from ValidPaths where path >= ? limit 1').pluck(),
      setSigs: p('update ValidPaths set sigs = ? where path = ?'),
    };
  }

  close(): void {
    this.#db.close();
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE). */
  transaction<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      if ((e as { code?: string }).code?.startsWith('SQLITE_'))
        throw dbError('database operation failed on', this.path, e);
      throw e;
    }
  }

  isValid(path: string): boolean {
    return this.#s.id.get(path) !== undefined;
  }

  /**
   * The path's info; the answer may be shared with other callers and is frozen. Infos are kept
   * in memory between calls as long as the database is unchanged: SQLite's data_version tells
   * of commits by other connections (a cheaper statement than the lookup), and every write made
   * through this object empties the cache. Within a transaction the database is read directly.
   */
  queryPathInfo(path: string): ValidPathInfo | undefined {
    if (this.#db.inTransaction) return this.#readPathInfo(path);
    this.#checkCache();
    const hit = this.#cache.get(path);
    if (hit !== undefined) return hit;
    const info = this.#readPathInfo(path);
    if (info === undefined) return undefined;
    Object.freeze(info.references);
    Object.freeze(info.sigs);
    Object.freeze(info);
    if (this.#cache.size >= INFO_CACHE_SIZE) this.#cache.clear();
    this.#cache.set(path, info);
    return info;
  }

  /** Empties the info cache if another connection changed the database since it was filled. */
  #checkCache(): void {
    const version = this.#s.dataVersion.get() as number;
    if (version !== this.#cacheVersion) {
      this.#cache.clear();
      this.#cacheVersion = version;
    }
  }

  /**
   * The valid ones among `paths`, in one read transaction; paths whose info is cached (see
   * queryPathInfo) need no lookup.
   */
  validPaths(paths: Iterable<string>, check: (path: string) => void = () => {}): Set<string> {
    const out = new Set<string>();
    this.read(() => {
      this.#checkCache();
      const cache = this.#cache;
      const id = this.#s.id;
      for (const p of paths) {
        check(p);
        if (cache.has(p) || id.get(p) !== undefined) out.add(p);
      }
    });
    return out;
  }

  #readPathInfo(path: string): ValidPathInfo | undefined {
    const text = this.#s.infoText.get(path) as string | undefined;
    if (text === undefined) return undefined;
    const f = text.split(FIELD_SEP);
    if (f.length !== 8) {
      // A field holds the separator byte: read the columns one by one.
      const row = this.#s.info.get(path) as PathInfoRow | undefined;
      return row && pathInfoFromRow(path, row);
    }
    return pathInfoFromRow(path, [
      f[0]!,
      Number(f[1]),
      f[2]!,
      f[3] === '' ? null : Number(f[3]),
      f[4] === '' ? null : Number(f[4]),
      f[5]!,
      f[6]!,
      f[7]!,
    ]);
  }

  /** Runs `fn` in one read transaction, so that many lookups share one lock (BEGIN DEFERRED). */
  read<T>(fn: () => T): T {
    return this.#db.inTransaction ? fn() : this.#db.transaction(fn).deferred();
  }

  queryReferrers(path: string): string[] {
    return (this.#s.referrers.all(path) as string[]).sort(compareUtf8);
  }

  /** Output name -> path recorded for a valid derivation. */
  queryDerivationOutputs(drvPath: string): Map<string, string> {
    const rows = this.#s.drvOuts.all(drvPath) as { id: string; path: string }[];
    return new Map(rows.map((r) => [r.id, r.path]));
  }

  /** Valid derivations that list `outputPath` as one of their outputs. */
  queryValidDerivers(outputPath: string): string[] {
    return this.#s.derivers.all(outputPath) as string[];
  }

  allValidPaths(): string[] {
    return this.#s.all.all() as string[];
  }

  /** The valid path whose hash part is `hashPart`, given the store dir. */
  queryPathFromHashPart(storeDir: string, hashPart: string): string | undefined {
    const prefix = `${storeDir}/${hashPart}`;
    const p = this.#s.fromHashPart.get(prefix) as string | undefined;
    return p?.startsWith(`${prefix}-`) ? p : undefined;
  }

  /**
   * Inserts (or, for already valid paths, updates) `infos`, then their references and derivation
   * outputs, in one transaction. A reference must be valid or part of the batch.
   */
  registerValidPaths(infos: ValidPathInfo[], drvOutputs: Map<string, Map<string, string>>): void {
    this.#cache.clear();
    this.transaction(() => {
      for (const i of infos) {
        if (this.isValid(i.path)) {
          this.#s.update.run(
            i.narSize,
            i.narHash,
            i.ultimate ? 1 : null,
            i.sigs.join(' ') || null,
            i.ca ?? null,
            i.path,
          );
        } else {
          this.#s.insert.run(
            i.path,
            i.narHash,
            i.registrationTime,
            i.deriver ?? null,
            i.narSize,
            i.ultimate ? 1 : null,
            i.sigs.join(' ') || null,
            i.ca ?? null,
          );
        }
      }
      for (const i of infos) {
        const id = this.#s.id.get(i.path) as number;
        for (const r of i.references) {
          const refId = this.#s.id.get(r) as number | undefined;
          if (refId === undefined) throw invalidReference(r);
          this.#s.addRef.run(id, refId);
        }
        const outs = drvOutputs.get(i.path);
        if (outs) for (const [name, out] of outs) this.#s.addDrvOut.run(id, name, out);
      }
    });
  }

  /** Removes a path from the database; fails (SQLite constraint) while valid paths refer to it. */
  invalidatePath(path: string): void {
    this.#cache.clear();
    this.#s.invalidate.run(path);
  }

  setSignatures(path: string, sigs: string[]): void {
    this.#cache.clear();
    this.#s.setSigs.run(sigs.join(' ') || null, path);
  }
}
