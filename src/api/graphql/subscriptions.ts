import {
  GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLString, type GraphQLOutputType,
} from 'graphql';
import { can } from '../../auth/roles.js';
import type { ContentEvent } from '../../events/content-event.js';
import type { ExecutionEvent, LiveExecution } from '../../kernels/executions/live-execution.js';
import contentEventSchema from '../../../schemas/api/content-event.json' with { type: 'json' };
import executionSchema from '../../../schemas/api/execution.json' with { type: 'json' };
import { AsyncQueue } from './async-queue.js';
import { requireGraphQL, type GraphQLContext } from './graphql-context.js';
import { GraphQLJSON } from './json-scalar.js';
import { nonNull, type JsonSchema, type JsonSchemaTypes } from './json-schema-types.js';

/** The pubsub topic of content events, shared by every process (Redis when REDIS_URL is set). */
export const CONTENT_TOPIC = 'lectern.content';
/** The pubsub topic of one run's events. */
export const executionTopic = (id: string) => `lectern.execution.${id}`;
/** Asks the process running an execution to publish its events so far again (for a subscriber elsewhere). */
export const REPLAY_TOPIC = 'lectern.execution-replay';

/** What pubsub carries for a run: the event as ExecutionEvent's GraphQL shape. */
export interface ExecutionEventPayload {
  seq: number;
  event: 'output' | 'status';
  output: unknown;
  status: unknown;
}

export const toPayload = (e: ExecutionEvent): ExecutionEventPayload =>
  ({ seq: e.seq, event: e.event, output: e.event === 'output' ? e.data : null, status: e.event === 'status' ? e.data : null });

/** Events everyone may hear: what changes the live site. Editors and reviewers hear every save. */
const PUBLIC_EVENTS = new Set(['page.published', 'page.unpublished']);

interface PubSub {
  subscribe(topic: string): Promise<AsyncIterableIterator<unknown>>;
  publish(event: { topic: string; payload: unknown }): Promise<void>;
}

/**
 * Subscriptions over WebSocket (graphql-ws): a run's outputs as they arrive, and page
 * changes (save, publish, unpublish, move, delete) for one page or a subtree.
 */
export function subscriptionType(json: JsonSchemaTypes, execution: GraphQLOutputType): GraphQLObjectType {
  void execution;
  const nbOutput = json.output({ $ref: '#/definitions/NbOutput' }, 'NbOutput', executionSchema as JsonSchema);
  const contentEvent = json.output(contentEventSchema as JsonSchema, 'ContentEvent', contentEventSchema as JsonSchema);
  const executionEvent = new GraphQLObjectType({
    name: 'ExecutionEvent',
    description: 'One event of a run, as its Server-Sent Events carry them: each output, then one status.',
    fields: {
      seq: { type: new GraphQLNonNull(GraphQLInt), description: '1, 2, 3… (the SSE id).' },
      event: { type: new GraphQLNonNull(GraphQLString), description: '"output" or "status".' },
      output: { type: nbOutput, description: 'The nbformat output (event "output").' },
      status: { type: GraphQLJSON, description: '{status, execution_count, duration_ms, truncated, message} (event "status", the last one).' },
    },
  });

  return new GraphQLObjectType<unknown, GraphQLContext>({
    name: 'Subscription',
    fields: {
      executionEvents: {
        type: new GraphQLNonNull(executionEvent),
        description: 'A run\'s outputs as they arrive, then its status; the subscription completes after the status. Events already produced come first.',
        args: { execution: { type: new GraphQLNonNull(GraphQLString) } },
        subscribe: (_root, args: { execution: string }, ctx) => executionEvents(args.execution, ctx as GraphQLContext & { pubsub: PubSub }),
        resolve: (payload) => (payload as { executionEvents: ExecutionEventPayload }).executionEvents,
      },
      pageChanged: {
        type: nonNull(contentEvent),
        description: 'Fires when a page is saved, published, unpublished, moved or deleted: that page (`page`), or any page in a subtree (`subtree`: the page and everything below it), or any page. Anonymous callers and learners hear publish and unpublish only.',
        args: { page: { type: GraphQLInt }, subtree: { type: GraphQLInt } },
        subscribe: (_root, args: { page?: number | null; subtree?: number | null }, ctx) => pageChanges(args, ctx as GraphQLContext & { pubsub: PubSub }),
        resolve: (payload) => (payload as { pageChanged: ContentEvent }).pageChanged,
      },
    },
  });
}

async function executionEvents(id: string, ctx: GraphQLContext & { pubsub: PubSub }): Promise<AsyncIterableIterator<{ executionEvents: ExecutionEventPayload }>> {
  const p = requireGraphQL(ctx, 'run:code');
  const who = { tokenId: p.tokenId, name: p.name, admin: p.role === 'admin' };
  const { live, execution } = await ctx.lectern.executions.find(id, who);
  if (live) return followLive(live);
  if (execution.status !== 'running' && execution.status !== 'queued') {
    // Over and gone from memory: its record replays it.
    const queue = new AsyncQueue<{ executionEvents: ExecutionEventPayload }>();
    execution.outputs.forEach((o, i) => queue.push({ executionEvents: { seq: i + 1, event: 'output', output: o, status: null } }));
    queue.push({ executionEvents: {
      seq: execution.outputs.length + 1, event: 'status', output: null,
      status: { status: execution.status, execution_count: execution.execution_count, duration_ms: execution.duration_ms, truncated: execution.truncated, message: execution.message },
    } });
    queue.end();
    return queue;
  }
  // Running in another process: its events come through pubsub (Redis with REDIS_URL).
  // Listening first, then asking the running process for what it has produced so far;
  // the replay and the live events may interleave, so they are put back in order by seq.
  const sub = await ctx.pubsub.subscribe(executionTopic(id)) as AsyncIterableIterator<{ executionEvents: ExecutionEventPayload }>;
  await ctx.pubsub.publish({ topic: REPLAY_TOPIC, payload: { execution: id } });
  return (async function* inOrder() {
    let next = 1;
    const waiting = new Map<number, { executionEvents: ExecutionEventPayload }>();
    for await (const msg of sub) {
      const seq = msg.executionEvents.seq;
      if (seq < next || waiting.has(seq)) continue;
      waiting.set(seq, msg);
      for (let m = waiting.get(next); m; m = waiting.get(next)) {
        waiting.delete(next);
        next++;
        yield m;
        if (m.executionEvents.event === 'status') return;
      }
    }
  })();
}

function followLive(live: LiveExecution): AsyncQueue<{ executionEvents: ExecutionEventPayload }> {
  let stop = () => {};
  const queue = new AsyncQueue<{ executionEvents: ExecutionEventPayload }>(() => stop());
  stop = live.follow(0, (e) => {
    queue.push({ executionEvents: toPayload(e) });
    if (e.event === 'status') queue.end();
  });
  if (live.finished) queue.end();
  return queue;
}

async function pageChanges(args: { page?: number | null; subtree?: number | null }, ctx: GraphQLContext & { pubsub: PubSub }): Promise<AsyncIterableIterator<{ pageChanged: ContentEvent }>> {
  const everything = ctx.principal !== null && can(ctx.principal.role, 'read:drafts');
  const sub = await ctx.pubsub.subscribe(CONTENT_TOPIC) as AsyncIterableIterator<{ pageChanged: ContentEvent }>;
  const wanted = (e: ContentEvent) => (everything || PUBLIC_EVENTS.has(e.type))
    && (args.page === undefined || args.page === null || e.page === args.page)
    && (args.subtree === undefined || args.subtree === null || e.page === args.subtree || e.ancestors.includes(args.subtree));
  return (async function* filtered() {
    try {
      for await (const msg of sub) if (wanted(msg.pageChanged)) yield msg;
    } finally {
      await sub.return?.();
    }
  })();
}
