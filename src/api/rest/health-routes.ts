import type { FastifyInstance } from 'fastify';

/** `/healthz`: the process answers. `/readyz`: the database and the repository do too. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness: database and git repository reachable' } }, async (req, reply) => {
    const { database, repo } = app.lectern;
    const checks: Record<string, string> = {};
    await Promise.all([
      database.ping().then(() => { checks.database = 'ok'; }, (err: Error) => { checks.database = 'unreachable'; req.log.error({ err }, 'database check failed'); }),
      repo.ping().then(() => { checks.repository = 'ok'; }, (err: Error) => { checks.repository = 'unreachable'; req.log.error({ err }, 'repository check failed'); }),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    if (!ready) req.log.warn({ checks }, 'not ready');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}
