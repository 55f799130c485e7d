import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What the test environment offers. In strict mode (LECTERN_TEST_STRICT=1, set by
 * .ci/run) a missing service fails the suite instead of skipping it.
 */
export const STRICT = /^(1|true|yes)$/i.test(process.env.LECTERN_TEST_STRICT ?? '');

/** A Postgres URL of a database the tests may create databases from, or null. */
export const POSTGRES_URL = process.env.LECTERN_TEST_POSTGRES_URL?.trim() || null;

if (STRICT && !POSTGRES_URL) {
  throw new Error('LECTERN_TEST_STRICT is set but LECTERN_TEST_POSTGRES_URL is not: the Postgres runs cannot be skipped in CI');
}

/** A Redis the tests may use for cross-process events (GraphQL subscriptions), or null. */
export const REDIS_URL = process.env.LECTERN_TEST_REDIS_URL?.trim() || null;

if (STRICT && !REDIS_URL) {
  throw new Error('LECTERN_TEST_STRICT is set but LECTERN_TEST_REDIS_URL is not: the Redis runs cannot be skipped in CI');
}

export type Driver = 'pglite' | 'postgres';

/** The database drivers every database-backed suite runs against. */
export const DRIVERS: Driver[] = POSTGRES_URL ? ['pglite', 'postgres'] : ['pglite'];

/**
 * The `jupyter-server` executable the Jupyter adapter suites start, or null. It must be
 * able to run kernels: the Python of its shebang needs ipykernel (Debian's
 * python3-ipykernel; the pyenv python3 on PATH usually lacks it).
 */
export const JUPYTER_SERVER = findJupyterServer();

if (STRICT && !JUPYTER_SERVER) {
  throw new Error('LECTERN_TEST_STRICT is set but no jupyter-server with ipykernel was found (apt-get install jupyter-server python3-ipykernel): the Jupyter runs cannot be skipped in CI');
}

function findJupyterServer(): string | null {
  const candidates = [
    process.env.LECTERN_TEST_JUPYTER_SERVER?.trim(),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'jupyter-server')),
    '/usr/bin/jupyter-server',
  ];
  for (const file of candidates) {
    if (!file || !existsSync(file)) continue;
    let python = '/usr/bin/python3';
    try {
      const shebang = /^#!\s*(\S+)/.exec(readFileSync(file, 'utf8').slice(0, 200))?.[1];
      if (shebang && !shebang.endsWith('/env')) python = shebang;
    } catch { continue; }
    const check = spawnSync(python, ['-c', 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("ipykernel") and u.find_spec("jupyter_server") else 1)'], { stdio: 'ignore', timeout: 10_000 });
    if (check.status === 0) return file;
  }
  return null;
}
