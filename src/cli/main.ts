import { parseArgs } from 'node:util';
import { isRole, ROLES } from '../auth/roles.js';
import { createToken, listTokens, revokeToken } from '../auth/tokens.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DatabaseLockedError, openDatabase, type Database } from '../db/client.js';
import { fsck, fsckCounts } from '../history/fsck.js';
import { formatRepackResult, GitCommandError, GitNotInstalledError, repack } from '../history/repack.js';
import { importCommand } from './import-command.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: npm run lectern -- <command> [options]

Commands:
  token create --role <${ROLES.join('|')}> --name <name> [--email <email>]
                         Create an API token; prints the token (only its hash is stored).
  token list             List tokens (id, name, role, created, last used, revoked).
  token revoke <id>      Revoke a token; requests with it get 401 within seconds.
  migrate                Apply database migrations (the server also does this at start).
  fsck                   Check that the database and the git repository agree (every revision,
                         live commit, page and ref) and run git fsck --strict. Exits 1 and
                         lists the problems when there are any.
  repack                 Pack loose git objects into one pack with deltas (git repack); safe
                         while the server runs.
  import <file.ipynb|folder>… [--url http://localhost:3000] [--token <token>] [--parent <id>]
         [--type lesson] [--publish]
                         Create a page from each Jupyter notebook (folders: every .ipynb inside,
                         sorted) through the HTTP API of a running server; the token (editor or
                         admin) may come from LECTERN_TOKEN. Prints "<id> <url> <file>" per page.
  help                   Show this help.

Configuration comes from the same environment as the server (DATABASE_URL, DATA_DIR…).
With the embedded database, stop the server first: PGlite serves one process at a time
(import talks to the server instead, so it runs while the server does).`;


async function withDatabase<T>(fn: (database: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
  try {
    await database.migrate();
    return await fn(database, config);
  } finally {
    await database.close();
  }
}

async function tokenCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = parseArgs({ args: rest, options: { role: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } }, strict: true });
    if (!isRole(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const name = values.name?.trim();
    if (!name) throw new UsageError('--name is required (it becomes the git author of this token\'s saves)');
    const role = values.role;
    const { id, token } = await withDatabase((d) => createToken(d.db, { name, role, email: values.email ?? null }));
    process.stderr.write(`Created ${role} token #${id} for "${name}". It is shown once:\n`);
    process.stdout.write(`${token}\n`);
    return;
  }
  if (sub === 'list') {
    const rows = await withDatabase((d) => listTokens(d.db));
    const lines = rows.map((r) => [r.id, r.name, r.role, r.createdAt.toISOString(), r.lastUsedAt?.toISOString() ?? '-', r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : 'active'].join('\t'));
    process.stdout.write(['id\tname\trole\tcreated\tlast used\tstatus', ...lines].join('\n') + '\n');
    return;
  }
  if (sub === 'revoke') {
    const id = Number(rest[0]);
    if (!Number.isInteger(id) || id < 1) throw new UsageError('token revoke needs a token id (see token list)');
    const done = await withDatabase((d) => revokeToken(d.db, id));
    if (!done) throw new UsageError(`no active token #${id}`);
    process.stderr.write(`Revoked token #${id}.\n`);
    return;
  }
  throw new UsageError(`unknown token command "${sub ?? ''}"`);
}

/** Prints each problem as `<check>: <message>`; exit status 1 when there are any. */
async function fsckCommand(): Promise<number> {
  return withDatabase(async (database, config) => {
    const problems = await fsck(database, config.contentRepoDir);
    if (problems.length) {
      process.stdout.write(problems.map((p) => `${p.check}: ${p.message}\n`).join(''));
      process.stdout.write(`fsck: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'} in ${config.contentRepoDir}\n`);
      return 1;
    }
    const n = await fsckCounts(database.db);
    const head = (oid: string | null) => oid?.slice(0, 12) ?? '(none)';
    process.stdout.write(`ok: ${n.pages} pages, ${n.revisions} revisions, ${n.liveCommits} live commits agree with ${config.contentRepoDir} `
      + `(main ${head(n.heads.main)}, live ${head(n.heads.live)}); git fsck --strict is clean\n`);
    return 0;
  });
}

async function repackCommand(): Promise<number> {
  const config = loadConfig();
  const result = await repack(config.contentRepoDir);
  process.stdout.write(`${formatRepackResult(config.contentRepoDir, result)}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'token':
        await tokenCommand(rest);
        return 0;
      case 'migrate':
        await withDatabase(async () => {});
        process.stderr.write('Migrations applied.\n');
        return 0;
      case 'fsck':
        return await fsckCommand();
      case 'repack':
        return await repackCommand();
      case 'import':
        return await importCommand(rest);
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === 'TypeError' && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`lectern: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof DatabaseLockedError || err instanceof GitNotInstalledError || err instanceof GitCommandError) {
      process.stderr.write(`lectern: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error('lectern:', err);
  process.exit(1);
});
