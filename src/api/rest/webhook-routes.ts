import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../errors.js';
import { CONTENT_EVENT_TYPES } from '../../events/content-event.js';
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, type DeliveryRow, type WebhookRow } from '../../webhooks/webhook-store.js';
import { requirePermission } from './request-auth.js';
import { PRIVATE_CACHE_CONTROL } from './send-json.js';
import { lastValues, parsePagination } from './wagtail/page-listing-query.js';
import { parsePythonInt } from './wagtail/python-int.js';

const BY_OPERATION = { 'x-lectern-validated': 'operation' } as const;
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));
const idParams = { type: 'object', ...BY_OPERATION, properties: { id: { type: 'string', description: 'Webhook id' } }, required: ['id'] };
const date = { type: 'string', format: 'date-time' };
const nullable = (type: string) => ({ type: [type, 'null'] });

const webhookProperties = {
  id: { type: 'integer' },
  url: { type: 'string' },
  events: { type: 'array', items: { type: 'string', enum: [...CONTENT_EVENT_TYPES] } },
  description: nullable('string'),
  active: { type: 'boolean' },
  created_at: date,
};
const webhookSchema = { type: 'object', properties: webhookProperties };
const createdSchema = {
  type: 'object',
  properties: { ...webhookProperties, secret: { type: 'string', description: 'Signs every delivery (X-Lectern-Signature). Shown only in this answer.' } },
};
const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'Sent as X-Lectern-Delivery' },
    event_id: { type: 'string', description: 'The body\'s id: the same event sent to several webhooks, or sent again, has the same one' },
    event_type: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: { type: 'integer' },
    last_status_code: nullable('integer'),
    last_error: nullable('string'),
    created_at: date,
    next_attempt_at: { ...nullable('string'), description: 'When a pending delivery is tried next; null once delivered or failed' },
    delivered_at: nullable('string'),
  },
};

const webhookJson = (w: WebhookRow) => ({
  id: w.id, url: w.url, events: w.events, description: w.description, active: w.active, created_at: w.createdAt.toISOString(),
});

const deliveryJson = (d: DeliveryRow) => ({
  id: d.id,
  event_id: d.eventId,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  created_at: d.createdAt.toISOString(),
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  delivered_at: d.deliveredAt?.toISOString() ?? null,
});

/** Webhooks for editors: register URLs for content events, read how each delivery went. */
export async function webhookRoutes(app: FastifyInstance): Promise<void> {
  const { database, config } = app.lectern;
  const db = database.db;
  app.addHook('onRequest', async (req) => { await requirePermission(req, 'write:pages'); });

  const idOf = (req: FastifyRequest) => {
    const raw = (req.params as { id: string }).id;
    const id = parsePythonInt(raw);
    if (id === null || id < 1 || id > 2_147_483_647) throw Errors.webhookNotFound([raw]);
    return id;
  };

  app.post('/api/v2/webhooks/', {
    schema: {
      tags: ['webhooks'],
      summary: 'Register a webhook (editors): a URL and the event types to deliver to it; the signing secret is shown once',
      body: {
        type: 'object',
        ...BY_OPERATION,
        properties: {
          url: { type: 'string', description: 'An absolute http(s) URL without user name or password' },
          events: { type: 'array', minItems: 1, items: { type: 'string', enum: [...CONTENT_EVENT_TYPES] } },
          description: { type: 'string', maxLength: 500 },
        },
        required: ['url', 'events'],
      },
      response: { 201: createdSchema, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const principal = await requirePermission(req, 'write:pages');
    const row = await createWebhook(db, req.body, principal.tokenId);
    app.lectern.webhooks.webhooksChanged();
    return reply.code(201).header('cache-control', 'no-store').send({ ...webhookJson(row), secret: row.secret });
  });

  app.get('/api/v2/webhooks/', {
    schema: { tags: ['webhooks'], summary: 'Webhooks (never their secrets)', response: { 200: { type: 'object', properties: { meta: { type: 'object', properties: { total_count: { type: 'integer' } } }, items: { type: 'array', items: webhookSchema } } }, ...errors(401, 403) } },
  }, async (_req, reply) => {
    const rows = await listWebhooks(db);
    return reply.header('cache-control', PRIVATE_CACHE_CONTROL).send({ meta: { total_count: rows.length }, items: rows.map(webhookJson) });
  });

  app.get('/api/v2/webhooks/:id/', {
    schema: { tags: ['webhooks'], summary: 'A webhook (without its secret)', params: idParams, response: { 200: webhookSchema, ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    return reply.header('cache-control', PRIVATE_CACHE_CONTROL).send(webhookJson(await getWebhook(db, idOf(req))));
  });

  app.delete('/api/v2/webhooks/:id/', {
    schema: { tags: ['webhooks'], summary: 'Delete a webhook and its delivery log; nothing more is sent to it', params: idParams, response: { 204: { description: 'Deleted', type: 'null' }, ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    await deleteWebhook(db, idOf(req));
    app.lectern.webhooks.webhooksChanged();
    return reply.code(204).send();
  });

  app.get('/api/v2/webhooks/:id/deliveries/', {
    schema: {
      tags: ['webhooks'],
      summary: 'The delivery log of a webhook, newest first: status, attempts, the last answer or error',
      params: idParams,
      querystring: { type: 'object', ...BY_OPERATION, properties: { limit: { type: 'string' }, offset: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { meta: { type: 'object', properties: { total_count: { type: 'integer' } } }, items: { type: 'array', items: deliverySchema } } }, ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const id = idOf(req);
    const { limit, offset } = parsePagination(lastValues(req.query as Record<string, unknown>), config.apiLimitMax);
    const list = await listDeliveries(db, id, limit, offset);
    return reply.header('cache-control', PRIVATE_CACHE_CONTROL).send({ meta: { total_count: list.total }, items: list.rows.map(deliveryJson) });
  });
}
