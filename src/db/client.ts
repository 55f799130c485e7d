import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { Mutex } from './mutex.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** Either driver's database; a transaction is one too. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Advisory lock keys (any two 32-bit ints unique to Lectern). */
const LOCK_NAMESPACE = 0x4c454354; // "LECT"
export const LOCKS = { writer: 1, migrate: 2 } as const;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /**
   * Runs `fn` while holding Lectern's writer lock for `key`: in-process FIFO first, then
   * (on Postgres) a session advisory lock, so writers in every process sharing the
   * database take turns. `fn` gets a database bound to the locked connection.
   */
  exclusive<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  /** Calls `onMessage` for each NOTIFY on `channel` (from any process). Returns an unsubscribe. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Postgres URL; null opens PGlite. */
  url: string | null;
  /** PGlite data directory; null keeps the database in memory (tests). */
  pgliteDir: string | null;
  poolSize?: number;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.poolSize ?? 10) : openPglite(opts.pgliteDir);
}

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
}

/**
 * PGlite is one process's database: a second process opening the same directory would
 * corrupt it. A pid file beside the directory keeps the second one out.
 */
function lockPgliteDir(dir: string): () => void {
  const lock = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => { try { unlinkSync(lock); } catch { /* already gone */ } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DatabaseLockedError(`the embedded database ${dir} is in use by process ${pid}: stop it first (or run Lectern on Postgres with DATABASE_URL to share a database)`);
      }
      unlinkSync(lock); // left by a process that is gone
    }
  }
  throw new DatabaseLockedError(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function openPglite(dir: string | null): Promise<Database> {
  let unlock = () => {};
  if (dir) {
    mkdirSync(dir, { recursive: true });
    unlock = lockPgliteDir(dir);
  }
  let client: PGlite;
  try {
    client = dir ? new PGlite(dir) : new PGlite();
    await client.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  const mutexes = new Map<number, Mutex>();
  // One process owns a PGlite directory, so the in-process mutex is the whole lock.
  return {
    kind: 'pglite',
    db,
    exclusive(key, fn) {
      let m = mutexes.get(key);
      if (!m) mutexes.set(key, (m = new Mutex()));
      return m.run(() => fn(db));
    },
    async listen(channel, onMessage) {
      const unlisten = await client.listen(channel, onMessage);
      return async () => { await unlisten(); };
    },
    migrate: () => migratePglite(drizzlePglite({ client, schema }), { migrationsFolder: MIGRATIONS_DIR }),
    async ping() { await client.query('select 1'); },
    async close() {
      if (!client.closed) await client.close();
      unlock();
    },
  };
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => {});
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  const mutexes = new Map<number, Mutex>();
  const listeners: pg.Client[] = [];

  async function exclusive<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T> {
    let m = mutexes.get(key);
    if (!m) mutexes.set(key, (m = new Mutex()));
    return m.run(async () => {
      const conn = await pool.connect();
      let broken = false;
      try {
        await conn.query('select pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, key]);
      } catch (err) {
        conn.release(true);
        throw err;
      }
      try {
        return await fn(drizzlePg({ client: conn, schema }) as unknown as Db);
      } finally {
        // If the unlock fails the connection's state is unknown: destroying it drops its locks.
        await conn.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, key]).catch(() => { broken = true; });
        conn.release(broken);
      }
    });
  }

  return {
    kind: 'postgres',
    db,
    exclusive,
    async listen(channel, onMessage) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (n) => { if (n.channel === channel) onMessage(n.payload ?? ''); });
      await client.query(`listen ${quoteIdent(channel)}`);
      listeners.push(client);
      return async () => {
        listeners.splice(listeners.indexOf(client), 1);
        await client.end().catch(() => {});
      };
    },
    migrate: () => exclusive(LOCKS.migrate, (locked) =>
      migratePg(locked as unknown as Parameters<typeof migratePg>[0], { migrationsFolder: MIGRATIONS_DIR })),
    async ping() { await db.execute(sql`select 1`); },
    async close() {
      await Promise.all(listeners.map((c) => c.end().catch(() => {})));
      await pool.end();
    },
  };
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid channel name ${name}`);
  return name;
}
