import type { FastifyInstance } from 'fastify';
import { createToken, listTokens, revokeToken, type TokenRow } from '../../auth/tokens.js';
import { Errors } from '../../errors.js';
import type { TokenCreate } from '../../generated/schema-types.js';
import tokenCreateSchema from '../../../schemas/api/token-create.json' with { type: 'json' };
import { requirePermission } from './request-auth.js';
import { parsePythonInt } from './wagtail/python-int.js';

const tokenJson = (t: TokenRow) => ({
  id: t.id, name: t.name, email: t.email, role: t.role,
  created_at: t.createdAt.toISOString(), last_used_at: t.lastUsedAt?.toISOString() ?? null, revoked_at: t.revokedAt?.toISOString() ?? null,
});

/** Token management for admins, the HTTP twin of `lectern token …` (which cannot open an embedded database a server holds). */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const db = app.lectern.database.db;
  app.addHook('onRequest', async (req) => { await requirePermission(req, 'manage:tokens'); });

  app.post('/api/v2/tokens/', {
    schema: { tags: ['operations'], summary: 'Create a token (shown once; only its hash is stored)', body: { $ref: `${tokenCreateSchema.$id}#` } },
  }, async (req, reply) => {
    const body = req.body as TokenCreate;
    const { id, token } = await createToken(db, { name: body.name.trim(), role: body.role, email: body.email ?? null });
    const row = (await listTokens(db)).find((t) => t.id === id)!;
    return reply.code(201).header('cache-control', 'no-store').send({ ...tokenJson(row), token });
  });

  app.get('/api/v2/tokens/', { schema: { tags: ['operations'], summary: 'Tokens (never the tokens themselves)' } }, async (_req, reply) => {
    return reply.header('cache-control', 'no-store').send({ items: (await listTokens(db)).map(tokenJson) });
  });

  app.delete('/api/v2/tokens/:id/', { schema: { tags: ['operations'], summary: 'Revoke a token' } }, async (req, reply) => {
    const id = parsePythonInt((req.params as { id: string }).id);
    if (id === null || !(await revokeToken(db, id))) throw Errors.notFound();
    app.lectern.auth.forget();
    return reply.code(204).send();
  });
}
