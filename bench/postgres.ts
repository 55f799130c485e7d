import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database created for one benchmark run and dropped after it. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates `lectern_bench_<random>` on the server `serverUrl` points at. */
export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `lectern_bench_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(serverUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** `select version()` of the server, shortened to "PostgreSQL 15.20". */
export async function postgresVersion(serverUrl: string): Promise<string> {
  return withClient(serverUrl, async (c) => {
    const { rows } = await c.query<{ v: string }>('select version() as v');
    return /^PostgreSQL \S+/.exec(rows[0]?.v ?? '')?.[0] ?? 'PostgreSQL';
  });
}
