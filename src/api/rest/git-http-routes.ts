import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { can, PERMISSION_VERBS } from '../../auth/roles.js';
import type { Principal } from '../../auth/tokens.js';
import { Errors } from '../../errors.js';

/**
 * The content repository over git's "dumb" HTTP protocol, so that
 * `git clone http://x:<token>@host/content.git` works with plain git: a dumb client
 * fetches only static files (HEAD, info/refs, objects/info/packs, loose objects, packs)
 * and walks the history itself. Only those files are served, each matched against a
 * strict pattern: a request path is never joined onto the repository directory.
 */
export async function gitHttpRoutes(app: FastifyInstance): Promise<void> {
  const gitdir = app.lectern.config.contentRepoDir;
  app.addHook('onRequest', async (req) => { await requireGitReader(req); });

  const route = (url: string, summary: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>, params?: object) => {
    const type = params ? 'application/octet-stream' : 'text/plain';
    app.route({
      method: ['GET', 'HEAD'],
      url,
      // A clone fetches every loose object: one log line each would drown the log. The
      // info/refs request that starts every clone and fetch is still logged.
      ...(params ? { logLevel: 'warn' } : {}),
      schema: {
        tags: ['history'],
        summary,
        description: DESCRIPTION,
        security: [{ basic: [] }, { bearer: [] }],
        ...(params ? { params } : {}),
        response: { 200: { description: 'The file', content: { [type]: { schema: { type: 'string', ...(params ? { format: 'binary' } : {}) } } } } },
      },
      handler,
    });
  };

  route('/content.git/HEAD', 'The repository\'s default branch (git dumb HTTP protocol)', async (_req, reply) => {
    const head = await readFile(join(gitdir, 'HEAD'), 'utf8');
    return sendText(reply, head, 'no-cache');
  });

  route('/content.git/info/refs', 'The branches and the commits they point at (git dumb HTTP protocol)', async (_req, reply) => {
    const refs = await listBranches(gitdir);
    return sendText(reply, [...refs].map(([name, oid]) => `${oid}\trefs/heads/${name}\n`).join(''), 'no-cache');
  });

  route('/content.git/objects/info/packs', 'The pack files (git dumb HTTP protocol)', async (_req, reply) => {
    const packs = await listPacks(gitdir);
    return sendText(reply, `${packs.map((p) => `P ${p}\n`).join('')}\n`, 'no-cache');
  });

  // objects/info/alternates and http-alternates land here too, and are refused: this
  // repository borrows objects from nowhere.
  route('/content.git/objects/:dir/:file', 'A loose object (git dumb HTTP protocol)', async (req, reply) => {
    const { dir, file } = req.params as { dir: string; file: string };
    if (!/^[0-9a-f]{2}$/.test(dir) || !/^[0-9a-f]{38}$/.test(file)) throw notServed(req);
    return sendFile(req, reply, gitdir, `objects/${dir}/${file}`);
  }, pathParams({ dir: '^[0-9a-f]{2}$', file: '^[0-9a-f]{38}$' }));

  route('/content.git/objects/pack/:file', 'A pack file or its index (git dumb HTTP protocol)', async (req, reply) => {
    const { file } = req.params as { file: string };
    if (!PACK_FILE.test(file)) throw notServed(req);
    return sendFile(req, reply, gitdir, `objects/pack/${file}`);
  }, pathParams({ file: PACK_FILE.source }));
}

const DESCRIPTION = 'For `git clone http://x:<token>@host/content.git`: HTTP Basic with a token as the password (any user name), '
  + 'or a bearer token, of a role that may read drafts. A request without credentials gets a Basic challenge.';
const PACK_FILE = /^pack-[0-9a-f]{40}\.(pack|idx)$/;
const CHALLENGE = { 'www-authenticate': 'Basic realm="lectern"' };
const IMMUTABLE = 'private, max-age=31536000, immutable';

/**
 * git sends HTTP Basic (any user name, a Lectern token as the password) once it has been
 * challenged; scripts may send a bearer token. Readers of drafts may clone.
 */
async function requireGitReader(req: FastifyRequest): Promise<Principal> {
  const token = tokenOf(req.headers.authorization);
  if (token === undefined) throw Errors.unauthenticated([], { headers: CHALLENGE });
  const principal = token ? await req.server.lectern.auth.authenticate(token) : null;
  if (!principal) throw Errors.badToken([], { headers: CHALLENGE });
  if (!can(principal.role, 'read:drafts')) throw Errors.forbidden([principal.role, PERMISSION_VERBS['read:drafts']]);
  return principal;
}

/** The token in an Authorization header: undefined without one, '' when it carries none. */
function tokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return '';
  const credentials = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  return colon < 0 ? '' : credentials.slice(colon + 1);
}

/** Path parameters as documented; the handlers check the patterns so that a miss is a 404, not a 400. */
function pathParams(patterns: Record<string, string>) {
  const properties = Object.fromEntries(Object.entries(patterns).map(([k, pattern]) => [k, { type: 'string', pattern }]));
  return { type: 'object', 'x-lectern-validated': 'operation', properties, required: Object.keys(patterns) };
}

const notServed = (req: FastifyRequest) => Errors.routeNotFound([req.method, req.url.split('?')[0]]);

function sendText(reply: FastifyReply, body: string, cacheControl: string) {
  return reply.header('cache-control', cacheControl).type('text/plain; charset=utf-8').send(body);
}

/**
 * Streams one repository file. The file is opened before the answer starts, so a pack
 * that a concurrent `git repack` deletes stays readable until it has been sent.
 */
async function sendFile(req: FastifyRequest, reply: FastifyReply, gitdir: string, relative: string) {
  let handle;
  try {
    handle = await open(join(gitdir, relative), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw Errors.repoFileNotFound([relative]);
    throw err;
  }
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw err;
  }
  reply.header('cache-control', IMMUTABLE).header('content-length', size).type('application/octet-stream');
  if (req.method === 'HEAD') {
    await handle.close();
    return reply.send();
  }
  return reply.send(handle.createReadStream());
}

/**
 * Every branch and the commit it points at, loose refs over packed ones (as git reads
 * them), sorted by name. Lock files and anything that is not a commit id are skipped.
 */
export async function listBranches(gitdir: string): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  let packed = '';
  try {
    packed = await readFile(join(gitdir, 'packed-refs'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const line of packed.split('\n')) {
    const m = /^([0-9a-f]{40}) refs\/heads\/(\S+)$/.exec(line);
    if (m) refs.set(m[2]!, m[1]!);
  }
  const heads = join(gitdir, 'refs', 'heads');
  let entries: string[] = [];
  try {
    entries = await readdir(heads, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of entries) {
    if (name.endsWith('.lock')) continue;
    let content: string;
    try {
      content = await readFile(join(heads, name), 'utf8');
    } catch {
      continue; // a folder, or a ref that was just renamed away
    }
    const oid = content.trim();
    if (/^[0-9a-f]{40}$/.test(oid)) refs.set(name.split('\\').join('/'), oid);
  }
  return new Map([...refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The complete packs: a pack counts once its index exists (git renames the index into place last). */
export async function listPacks(gitdir: string): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(join(gitdir, 'objects', 'pack'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const names = new Set(files);
  return files.filter((f) => /^pack-[0-9a-f]{40}\.pack$/.test(f) && names.has(f.replace(/\.pack$/, '.idx'))).sort();
}
