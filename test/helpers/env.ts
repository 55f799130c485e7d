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

export type Driver = 'pglite' | 'postgres';

/** The database drivers every database-backed suite runs against. */
export const DRIVERS: Driver[] = POSTGRES_URL ? ['pglite', 'postgres'] : ['pglite'];
