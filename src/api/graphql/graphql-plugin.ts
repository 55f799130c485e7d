import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { GraphQLError, type ExecutionResult } from 'graphql';
import mercurius from 'mercurius';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import { CmsError, Errors } from '../../errors.js';
import { listingEtag } from '../rest/etag.js';
import { principalOf } from '../rest/request-auth.js';
import { cacheKey, PUBLIC_CACHE_CONTROL, sendPrepared } from '../rest/send-json.js';
import { QueryKinds } from './public-query-cache.js';
import { buildGraphQLSchema } from './build-schema.js';
import { complexityRule } from './complexity-rule.js';
import { originsOf, principalFromAuthorization, type GraphQLContext } from './graphql-context.js';
import { CONTENT_TOPIC, executionTopic, REPLAY_TOPIC, toPayload } from './subscriptions.js';

/**
 * GraphQL at /graphql (mercurius) with subscriptions over WebSocket (graphql-ws), over
 * the same operations as REST. With REDIS_URL, events published by one process reach
 * subscribers connected to another.
 */
export async function graphqlRoutes(app: FastifyInstance): Promise<void> {
  const lectern = app.lectern;
  const { config } = lectern;
  const schema = buildGraphQLSchema(lectern);
  const emitter = config.redisUrl ? redisEmitter(config.redisUrl) : undefined;
  const allowlist = config.graphql.allowlistFile ? JSON.parse(readFileSync(config.graphql.allowlistFile, 'utf8')) as Record<string, string> : null;

  // A token that is sent is checked, as everywhere: a bad one is a 401, not anonymity.
  // Anonymous queries are answered from the public read cache, as REST reads are: it is
  // dropped whenever anything public readers see changes (ContentVersion).
  const kinds = new QueryKinds();
  const cacheable = new WeakMap<object, { key: string; generation: number }>();
  app.addHook('preHandler', async (req, reply) => {
    await principalOf(req);
    if (req.method !== 'POST' || req.headers.authorization !== undefined || !lectern.cache.enabled) return;
    const body = req.body as { query?: unknown; variables?: unknown; operationName?: unknown; persisted?: unknown } | null;
    if (!body || typeof body.query !== 'string' || body.persisted) return;
    const operationName = typeof body.operationName === 'string' ? body.operationName : null;
    if (!kinds.isQuery(body.query, operationName)) return;
    const key = `graphql|${cacheKey(req)}|${operationName ?? ''}|${body.query}|${JSON.stringify(body.variables ?? null)}`;
    const hit = lectern.cache.get(key);
    if (hit) return sendPrepared(req, reply, hit);
    cacheable.set(req, { key, generation: lectern.version.generation });
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const entry = cacheable.get(req);
    if (!entry || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    if ((JSON.parse(payload) as { errors?: unknown }).errors !== undefined) return payload;
    lectern.cache.set(entry.key, { status: 200, body: payload, etag: listingEtag(payload), headers: { 'cache-control': PUBLIC_CACHE_CONTROL } }, entry.generation);
    return payload;
  });

  await app.register(mercurius, {
    schema,
    path: '/graphql',
    graphiql: config.graphql.graphiql && !allowlist,
    context: async (req): Promise<GraphQLContext> => ({ lectern, principal: await principalOf(req), ...originsOf(req, lectern) }),
    queryDepth: config.graphql.maxDepth,
    // Static, so parsed and validated queries stay cached; a `limit` given as a variable counts as 20.
    validationRules: [complexityRule(config.graphql.maxComplexity)],
    additionalRouteOptions: { bodyLimit: config.graphql.bodyLimitBytes },
    ...(allowlist ? { persistedQueries: allowlist, onlyPersisted: true } : {}),
    errorFormatter: (execution, ctx) => formatErrors(execution, ctx as { reply?: { log: FastifyInstance['log'] }; app: FastifyInstance }),
    subscription: {
      ...(emitter ? { emitter } : {}),
      keepAlive: 30_000,
      // The connection_init payload carries the token: {"authorization": "Bearer …"} or {"token": "…"}.
      onConnect: async ({ payload }: { payload?: Record<string, unknown> }) => {
        const header = payload?.authorization ?? payload?.Authorization ?? (typeof payload?.token === 'string' ? `Bearer ${payload.token}` : undefined);
        try {
          return { principal: await principalFromAuthorization(lectern, header) };
        } catch {
          return false;
        }
      },
      context: (_conn: unknown, req: Parameters<typeof originsOf>[0]) => ({ lectern, ...originsOf(req, lectern) }),
    },
  });

  const publish = (topic: string, payload: unknown) => {
    const failed = (err: unknown) => app.log.error({ err, topic }, 'publishing an event failed');
    try {
      Promise.resolve(app.graphql.pubsub.publish({ topic, payload }) as unknown).catch(failed);
    } catch (err) {
      failed(err);
    }
  };
  const stopContent = lectern.content.revisions.onEvents((events) => {
    for (const e of events) {
      publish(CONTENT_TOPIC, { pageChanged: e });
    }
  });
  // Subscribers in this process follow a run directly; other processes hear it through Redis.
  const stopExecutions = emitter
    ? lectern.executions.onEvent((exec, e) => {
      publish(executionTopic(exec.facts.id), { executionEvents: toPayload(e) });
    })
    : () => {};
  // A subscriber in another process asks for a run this process holds: send its events so far.
  const onReplay = (msg: object, done: () => void) => {
    const id = (msg as { payload?: { execution?: unknown } }).payload?.execution;
    const live = typeof id === 'string' ? lectern.executions.liveRun(id) : undefined;
    if (live) for (const e of live.events) publish(executionTopic(live.facts.id), { executionEvents: toPayload(e) });
    done();
  };
  if (emitter) emitter.on(REPLAY_TOPIC, onReplay);
  app.addHook('onClose', async () => {
    stopContent();
    stopExecutions();
    if (emitter) {
      emitter.removeListener(REPLAY_TOPIC, onReplay);
      await new Promise<void>((resolve) => emitter.close(() => resolve()));
    }
  });
}

/**
 * mqemitter over Redis with connections of our own: ioredis' ready check (an INFO) would
 * collide with a SUBSCRIBE issued while connecting ("Connection in subscriber mode").
 */
function redisEmitter(url: string) {
  const connection = () => new Redis(url, { enableReadyCheck: false, maxRetriesPerRequest: null });
  return mqemitterRedis({ subConn: connection(), pubConn: connection() } as Parameters<typeof mqemitterRedis>[0]);
}

/** Fastify's and mercurius' own request errors, as the catalogue names them. */
const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: Errors.payloadTooLarge.code,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: Errors.unsupportedMediaType.code,
  FST_ERR_CTP_EMPTY_JSON_BODY: Errors.badRequest.code,
  FST_ERR_CTP_INVALID_JSON_BODY: Errors.badRequest.code,
  MER_ERR_GQL_QUERY_DEPTH: 'CMS_ERR_GRAPHQL_TOO_DEEP',
};

/**
 * Errors carry the same `code` as REST in `extensions.code` (and `errors` with paths for
 * validation failures); internal errors never leak their message.
 */
function formatErrors(execution: ExecutionResult & { statusCode?: number }, ctx: { reply?: { log: FastifyInstance['log'] }; app: FastifyInstance }) {
  const log = ctx.reply?.log ?? ctx.app.log;
  // Mercurius wraps several validation errors (depth, rules) in one.
  const flat: { error: Error; graphql: GraphQLError | null }[] = [];
  for (const e of execution.errors ?? []) {
    const nested = (e.originalError as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(nested) && nested.every((n) => n instanceof Error)) {
      for (const n of nested as Error[]) flat.push({ error: n, graphql: n instanceof GraphQLError ? n : null });
    } else {
      flat.push({ error: e, graphql: e });
    }
  }
  const statuses = new Set<number>();
  const errors = flat.map(({ error, graphql }) => {
    const out: { message: string; locations?: unknown; path?: unknown; extensions?: Record<string, unknown> } = graphql
      ? graphql.toJSON() as typeof out
      : { message: error.message };
    const original = graphql ? graphql.originalError ?? null : error;
    const frameworkCode = (original as { code?: unknown } | null)?.code;
    const frameworkStatus = (original as { statusCode?: unknown } | null)?.statusCode;
    if (original instanceof CmsError) {
      statuses.add(original.statusCode);
      out.message = original.message;
      out.extensions = { ...out.extensions, code: original.code, statusCode: original.statusCode, ...(original.errors ? { errors: original.errors } : {}), ...(original.extra ?? {}) };
    } else if (original && !(original instanceof GraphQLError) && typeof frameworkCode === 'string' && /^(FST|MER)_/.test(frameworkCode)) {
      const status = typeof frameworkStatus === 'number' && frameworkStatus >= 400 && frameworkStatus < 500 ? frameworkStatus : 400;
      statuses.add(status);
      out.extensions = { code: FRAMEWORK_CODES[frameworkCode] ?? 'CMS_ERR_GRAPHQL_INVALID', statusCode: status };
    } else if (original && !(original instanceof GraphQLError)) {
      log.error({ err: original }, 'graphql resolver failed');
      statuses.add(500);
      const internal = Errors.internal();
      out.message = internal.message;
      out.extensions = { code: internal.code, statusCode: 500 };
    } else {
      const code = out.extensions?.code as string | undefined;
      statuses.add(400);
      out.extensions = { ...out.extensions, code: code && code.startsWith('CMS_ERR_') ? code : 'CMS_ERR_GRAPHQL_INVALID', statusCode: 400 };
    }
    return out;
  });
  // graphql-over-HTTP: 200 whenever there is data; else the errors' own status when they agree.
  const statusCode = execution.data ? 200 : statuses.size === 1 ? [...statuses][0]! : (execution.statusCode ?? 400);
  return { statusCode, response: { data: execution.data ?? null, errors } as unknown as ExecutionResult };
}
