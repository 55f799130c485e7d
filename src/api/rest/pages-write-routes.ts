import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createPage } from '../../content/operations/create-page.js';
import { deletePage } from '../../content/operations/delete-page.js';
import { movePage } from '../../content/operations/move-page.js';
import { publishPage, unpublishPage } from '../../content/operations/publish-page.js';
import { revertPage } from '../../content/operations/revert-page.js';
import { updatePage } from '../../content/operations/update-page.js';
import { Errors } from '../../errors.js';
import type { PageMove, PagePublish, PageRevert } from '../../generated/schema-types.js';
import { revisionFromIfMatch } from './etag.js';
import { pageWriteSchemas } from './openapi-schemas.js';
import { sendPageDraft } from './page-response.js';
import { requireActor, requirePermission } from './request-auth.js';
import { detailUrl } from './wagtail/page-serializer.js';
import { apiOrigin } from './request-auth.js';

const pageId = (req: FastifyRequest) => Number((req.params as { id: string }).id);

/** The revision an If-Match header expects, if any. */
function ifMatchRevision(req: FastifyRequest): number | undefined {
  const expected = revisionFromIfMatch(req.headers['if-match']);
  if (expected === null) {
    throw Errors.badRequest(['If-Match must be an ETag of this page or a revision id'], { errors: [{ path: '/headers/if-match', message: 'is not an ETag of a page revision' }] });
  }
  return expected === '*' ? undefined : expected;
}

/** Page writes: thin handlers over content/operations. */
export async function pagesWriteRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.lectern.content;
  const schemas = pageWriteSchemas(ctx.types);
  // Before the body is read or validated: an anonymous or read-only caller learns only that.
  app.addHook('onRequest', async (req) => { await requirePermission(req, 'write:pages'); });

  app.post('/api/v2/pages/', { schema: schemas.create }, async (req, reply) => {
    const actor = await requireActor(req);
    const row = await createPage(ctx, actor, req.body);
    reply.header('location', detailUrl(apiOrigin(req), row.id));
    return sendPageDraft(req, reply, row, 201);
  });

  app.patch('/api/v2/pages/:id/', { schema: schemas.update }, async (req, reply) => {
    const actor = await requireActor(req);
    const { row, merge } = await updatePage(ctx, actor, pageId(req), req.body, { expectedRevision: ifMatchRevision(req) });
    return sendPageDraft(req, reply, row, 200, merge ? { merged: true, merged_from: merge } : { merged: false });
  });

  app.delete('/api/v2/pages/:id/', { schema: schemas.remove }, async (req, reply) => {
    const actor = await requireActor(req);
    const result = await deletePage(ctx, actor, pageId(req));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(result));
  });

  app.post('/api/v2/pages/:id/publish/', { schema: schemas.publish }, async (req, reply) => {
    const actor = await requireActor(req);
    const body = (req.body ?? {}) as PagePublish;
    const row = await publishPage(ctx, actor, pageId(req), {
      revision: body.revision,
      message: body.message,
      goLiveAt: body.go_live_at ? new Date(body.go_live_at) : undefined,
      expireAt: body.expire_at ? new Date(body.expire_at) : undefined,
    });
    return sendPageDraft(req, reply, row);
  });

  app.post('/api/v2/pages/:id/unpublish/', { schema: schemas.unpublish }, async (req, reply) => {
    const actor = await requireActor(req);
    const row = await unpublishPage(ctx, actor, pageId(req), (req.body ?? {}) as { message?: string });
    return sendPageDraft(req, reply, row);
  });

  app.post('/api/v2/pages/:id/revert/', { schema: schemas.revert }, async (req, reply) => {
    const actor = await requireActor(req);
    const body = req.body as PageRevert;
    const row = await revertPage(ctx, actor, pageId(req), { ...body, expectedRevision: ifMatchRevision(req) });
    return sendPageDraft(req, reply, row);
  });

  app.post('/api/v2/pages/:id/move/', { schema: schemas.move }, async (req, reply) => {
    const actor = await requireActor(req);
    const body = req.body as PageMove;
    const row = await movePage(ctx, actor, pageId(req), { parent: body.parent, message: body.message });
    return sendPageDraft(req, reply, row);
  });
}
