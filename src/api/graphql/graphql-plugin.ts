import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { GraphQLError, type ExecutionResult } from 'graphql';
import mercurius from 'mercurius';
import mqemitterRedis from 'mqemitter-redis';
import { CmsError, Errors } from '../../errors.js';
import { principalOf } from '../rest/request-auth.js';
import { buildGraphQLSchema } from './build-schema.js';
import { complexityRule } from './complexity-rule.js';
import { originsOf, principalFromAuthorization, type GraphQLContext } from './graphql-context.js';
import { CONTENT_TOPIC, executionTopic, toPayload } from './subscriptions.js';

/**
 * GraphQL at /graphql (mercurius) with subscriptions over WebSocket (graphql-ws), over
 * the same operations as REST. With REDIS_URL, events published by one process reach
 * subscribers connected to another.
 */
export async function graphqlRoutes(app: FastifyInstance): Promise<void> {
  const lectern = app.lectern;
  const { config } = lectern;
  const schema = buildGraphQLSchema(lectern);
  const emitter = config.redisUrl ? mqemitterRedis({ connectionString: config.redisUrl }) : undefined;
  const allowlist = config.graphql.allowlistFile ? JSON.parse(readFileSync(config.graphql.allowlistFile, 'utf8')) as Record<string, string> : null;

  // A token that is sent is checked, as everywhere: a bad one is a 401, not anonymity.
  app.addHook('preHandler', async (req) => { await principalOf(req); });

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
  app.addHook('onClose', async () => {
    stopContent();
    stopExecutions();
  });
}

/**
 * Errors carry the same `code` as REST in `extensions.code` (and `errors` with paths for
 * validation failures); internal errors never leak their message.
 */
function formatErrors(execution: ExecutionResult & { statusCode?: number }, ctx: { reply?: { log: FastifyInstance['log'] }; app: FastifyInstance }) {
  const log = ctx.reply?.log ?? ctx.app.log;
  const flat: GraphQLError[] = [];
  for (const e of execution.errors ?? []) {
    const nested = (e.originalError as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(nested) && nested.every((n) => n instanceof GraphQLError)) flat.push(...(nested as GraphQLError[]));
    else flat.push(e);
  }
  const statuses = new Set<number>();
  const errors = flat.map((e) => {
    const out = e.toJSON() as { message: string; extensions?: Record<string, unknown> };
    const original = e.originalError;
    if (original instanceof CmsError) {
      statuses.add(original.statusCode);
      out.message = original.message;
      out.extensions = { ...out.extensions, code: original.code, statusCode: original.statusCode, ...(original.errors ? { errors: original.errors } : {}), ...(original.extra ?? {}) };
    } else if (original && !(original instanceof GraphQLError) && !(original as { code?: string }).code?.startsWith('MER_ERR_')) {
      log.error({ err: original }, 'graphql resolver failed');
      statuses.add(500);
      const internal = Errors.internal();
      out.message = internal.message;
      out.extensions = { code: internal.code, statusCode: 500 };
    } else {
      const code = (out.extensions?.code as string | undefined) ?? (original as { code?: string } | undefined)?.code;
      statuses.add(400);
      out.extensions = { ...out.extensions, code: code && code.startsWith('CMS_ERR_') ? code : 'CMS_ERR_GRAPHQL_INVALID', statusCode: 400 };
    }
    return out;
  });
  // graphql-over-HTTP: 200 whenever there is data; else the errors' own status when they agree.
  const statusCode = execution.data ? 200 : statuses.size === 1 ? [...statuses][0]! : (execution.statusCode ?? 400);
  return { statusCode, response: { data: execution.data ?? null, errors } };
}
