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

  constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.path = path;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      // One statement (one read transaction) per path info; store paths contain no spaces.
      info: p(
        `select hash, registrationTime, deriver, narSize, ultimate, sigs, ca,
           (select group_concat(r.path, ' ') from Refs join ValidPaths r on reference = r.id
             where referrer = v.id)
         from ValidPaths v where v.path = ?`,
      ).raw(),
      id: p('select id from ValidPaths where path = ?').pluck(),
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

  queryPathInfo(path: string): ValidPathInfo | undefined {
    const row = this.#s.info.get(path) as PathInfoRow | undefined;
    if (!row) return undefined;
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
          if (refId === undefined) {
            throw new StoreError(
              'BAD_INFO',
              `cannot register path '${i.path}': its reference '${r}' is not valid`,
            );
          }
          this.#s.addRef.run(id, refId);
        }
        const outs = drvOutputs.get(i.path);
        if (outs) for (const [name, out] of outs) this.#s.addDrvOut.run(id, name, out);
      }
    });
  }

  /** Removes a path from the database; fails (SQLite constraint) while valid paths refer to it. */
  invalidatePath(path: string): void {
    this.#s.invalidate.run(path);
  }

  setSignatures(path: string, sigs: string[]): void {
    this.#s.setSigs.run(sigs.join(' ') || null, path);
  }
}
