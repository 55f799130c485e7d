import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { can } from '../../auth/roles.js';
import type { Execution } from '../../generated/schema-types.js';
import type { Learner } from '../../kernels/executions/execution-service.js';
import type { ExecutionEvent, LiveExecution } from '../../kernels/executions/live-execution.js';
import { runBlock } from '../../kernels/executions/run-block.js';
import executionSchema from '../../../schemas/api/execution.json' with { type: 'json' };
import { apiOrigin, principalOf, requirePermission } from './request-auth.js';
import { parsePythonInt } from './wagtail/python-int.js';
import { lastValues, parsePagination } from './wagtail/page-listing-query.js';

const json = (reply: FastifyReply, status: number, body: unknown) =>
  reply.code(status).header('cache-control', 'private, no-store').type('application/json; charset=utf-8').send(JSON.stringify(body));

async function learnerOf(req: FastifyRequest): Promise<Learner> {
  const p = await requirePermission(req, 'run:code');
  return { tokenId: p.tokenId, name: p.name, admin: p.role === 'admin' };
}

const executionRef = { $ref: `${executionSchema.$id}#` };

/**
 * Running jupyter blocks (DESIGN.md §6): thin handlers over the execution service; the
 * page and block come from content, the run from kernels.
 */
export async function executionRoutes(app: FastifyInstance): Promise<void> {
  const { executions, pageDocs } = app.lectern;
  const eventsUrl = (req: FastifyRequest, e: LiveExecution) => `${apiOrigin(req)}/api/v2/executions/${e.facts.id}/events?key=${e.streamKey}`;

  app.post('/api/v2/pages/:id/blocks/:blockId/execute/', {
    schema: {
      tags: ['kernels'],
      summary: 'Run a jupyter block (its code, or the learner\'s edit) in the learner\'s kernel for the lesson environment',
      body: { type: 'object', additionalProperties: false, properties: { code: { type: 'string', description: 'The learner\'s edited code; the block\'s own code when absent.' } } },
      querystring: { type: 'object', properties: { wait: { type: 'boolean', description: 'Answer when the run has ended (200) instead of at once (202).' } } },
      response: {
        200: executionRef,
        202: { type: 'object', properties: { execution: executionRef, events: { type: 'string', format: 'uri', description: 'Server-Sent Events of the outputs (open it with EventSource; the key in it stands for a token).' } } },
      },
    },
  }, async (req, reply) => {
    const learner = await learnerOf(req);
    const principal = (await principalOf(req))!;
    const params = req.params as { id: string; blockId: string };
    const exec = await runBlock(pageDocs, executions, {
      learner,
      pageId: parsePythonInt(params.id),
      blockId: params.blockId,
      code: (req.body as { code?: string } | null)?.code,
      version: can(principal.role, 'read:drafts') ? 'draft' : 'live',
    });
    reply.header('location', `${apiOrigin(req)}/api/v2/executions/${exec.facts.id}/`);
    if ((req.query as { wait?: boolean }).wait) {
      await exec.done;
      return json(reply, 200, exec.toJSON());
    }
    return json(reply, 202, { execution: exec.toJSON(), events: eventsUrl(req, exec) });
  });

  app.get('/api/v2/executions/', {
    schema: { tags: ['kernels'], summary: 'The caller\'s runs, newest first (limit/offset)' },
  }, async (req, reply) => {
    const who = await learnerOf(req);
    const { limit, offset } = parsePagination(lastValues(req.query as Record<string, unknown>), app.lectern.config.apiLimitMax);
    const list = await executions.list(who, limit, offset);
    return json(reply, 200, { meta: { total_count: list.total }, items: list.items });
  });

  app.get('/api/v2/executions/:id/', {
    schema: { tags: ['kernels'], summary: 'A run: its status and outputs', response: { 200: executionRef } },
  }, async (req, reply) => {
    const { execution } = await executions.find((req.params as { id: string }).id, await learnerOf(req));
    return json(reply, 200, execution);
  });

  app.get('/api/v2/executions/:id/events', {
    schema: {
      tags: ['kernels'],
      summary: 'A run\'s outputs as Server-Sent Events: one `output` event per nbformat output, then one `status` event; Last-Event-ID resumes',
      querystring: { type: 'object', properties: { key: { type: 'string', description: 'The key from the execute response, instead of a bearer token.' } } },
      response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    },
  }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const key = (req.query as { key?: string }).key;
    const live = executions.liveRun(id);
    let execution: Execution | null = null;
    if (!(live && key && sameKey(key, live.streamKey))) {
      // Without the run's key: its learner's (or an admin's) token.
      const found = await executions.find(id, await learnerOf(req));
      execution = found.execution;
    }
    const after = Number(req.headers['last-event-id'] ?? 0) || 0;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (e: ExecutionEvent) => res.write(`id: ${e.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    if (live) {
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      let stop = () => {};
      let ended = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        stop();
        res.end();
      };
      // Replays what the client missed (synchronously), then follows the run to its status.
      stop = live.follow(after, (e: ExecutionEvent) => {
        send(e);
        if (e.event === 'status') finish();
      });
      if (live.finished) finish();
      req.raw.on('close', () => { clearInterval(heartbeat); stop(); });
      return;
    }
    // A run this process no longer holds: replay its record.
    const outputs = execution!.outputs;
    outputs.forEach((o, i) => { if (i + 1 > after) send({ seq: i + 1, event: 'output', data: o }); });
    send({ seq: outputs.length + 1, event: 'status', data: { status: execution!.status, execution_count: execution!.execution_count, duration_ms: execution!.duration_ms, truncated: execution!.truncated, message: execution!.message } });
    res.end();
  });

  app.post('/api/v2/executions/:id/interrupt/', {
    schema: { tags: ['kernels'], summary: 'Stop a run (KeyboardInterrupt in its kernel)', response: { 200: executionRef } },
  }, async (req, reply) => {
    const exec = await executions.interrupt((req.params as { id: string }).id, await learnerOf(req));
    await Promise.race([exec.done, new Promise((r) => setTimeout(r, 2_000))]);
    return json(reply, 200, exec.toJSON());
  });

  app.get('/api/v2/kernels/', {
    schema: { tags: ['kernels'], summary: 'The caller\'s kernels (one per lesson environment they ran code in)' },
  }, async (req, reply) => {
    const learner = await learnerOf(req);
    return json(reply, 200, { items: executions.sessions.ofLearner(learner.tokenId).map(kernelJson) });
  });

  app.post('/api/v2/kernels/:id/restart/', {
    schema: { tags: ['kernels'], summary: 'Restart one of the caller\'s kernels (its state is lost)' },
  }, async (req, reply) => {
    const session = await executions.restartKernel((req.params as { id: string }).id, await learnerOf(req));
    return json(reply, 200, kernelJson(session));
  });
}

function kernelJson(s: { id: string; environment: string; kernelspec: string; startedAt: Date; lastUsedAt: Date; busy: boolean }) {
  return { id: s.id, environment: s.environment, kernelspec: s.kernelspec, started_at: s.startedAt.toISOString(), last_used_at: s.lastUsedAt.toISOString(), busy: s.busy };
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
