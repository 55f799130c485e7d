import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { createToken } from '../../src/auth/tokens.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { POSTGRES_URL, type Driver } from './env.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestDatabase {
  database: Database;
  /** Postgres URL of the fresh database (null for PGlite). */
  url: string | null;
  drop(): Promise<void>;
}

/** A fresh, empty database: in-memory PGlite, or a new Postgres database dropped afterwards. */
export async function createTestDatabase(driver: Driver): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await openDatabase({ url: null, pgliteDir: null });
    return { database, url: null, drop: () => database.close() };
  }
  if (!POSTGRES_URL) throw new Error('LECTERN_TEST_POSTGRES_URL is not set');
  const name = `lectern_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), pgliteDir: null });
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close().catch(() => {});
      const c = new pg.Client({ connectionString: POSTGRES_URL! });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dir: string;
  db: TestDatabase;
  tokens: { admin: string; editor: string; reviewer: string };
  /** app.inject with a role's bearer token (or none). */
  as(role: 'admin' | 'editor' | 'reviewer' | null, opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestApp(driver: Driver, env: Record<string, string> = {}, buildOpts: Parameters<typeof buildApp>[1] = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-test-'));
  const db = await createTestDatabase(driver);
  const config = loadConfig({ DATA_DIR: dir, ADMIN_TOKEN, LOG_LEVEL: 'silent', ...env });
  // LECTERN_TEST_LOG=error shows server-side errors (500s) while debugging a test.
  const logger = process.env.LECTERN_TEST_LOG ? { level: process.env.LECTERN_TEST_LOG } : false;
  const app = await buildApp(config, { database: db.database, logger, ...buildOpts });
  const editor = (await createToken(db.database.db, { name: 'Eddie Editor', role: 'editor', email: 'eddie@example.com' })).token;
  const reviewer = (await createToken(db.database.db, { name: 'Rita Reviewer', role: 'reviewer' })).token;
  const tokens = { admin: ADMIN_TOKEN, editor, reviewer };
  return {
    app, config, dir, db, tokens,
    as(role, opts) {
      const headers = { ...(opts.headers ?? {}), ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}) };
      return app.inject({ ...opts, headers });
    },
    async close() {
      await app.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
