import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { api, send, UnexpectedStatusError, type ApiClient } from './http.js';
import { BLOCKS_PER_LESSON } from './lessons.js';
import type { ReadScenario } from './load.js';
import type { Latency, Stoppable } from './media.js';
import { percentile } from './saves.js';
import type { SeededLesson } from './seed.js';
import { ServerProcess } from './server-process.js';

/** The GraphQL twin of the REST "lesson by slug" read (issue 6). */
export const GRAPHQL_SLUG_SCENARIO = 'GraphQL by slug';

/** A lesson by slug with its body blocks: the fields of `?fields=*` that a lesson page shows. */
export const LESSON_QUERY = `query LessonBySlug($slug: String!) {
  pages(type: "lesson", slug: $slug, limit: 1) {
    items {
      id title slug
      ... on Lesson {
        intro environment
        body {
          __typename
          ... on HeadingBlock { id value }
          ... on ParagraphBlock { id value }
          ... on CodeBlock { id language source }
          ... on JupyterBlock { id code kernel }
          ... on TextBlock { id value }
          ... on BlockQuoteBlock { id value }
        }
      }
    }
  }
}`;

/** The GraphQL type of each block type of the seeded lessons. */
const BLOCK_TYPENAMES: Record<string, string> = {
  heading: 'HeadingBlock', paragraph: 'ParagraphBlock', code: 'CodeBlock', jupyter: 'JupyterBlock', text: 'TextBlock', block_quote: 'BlockQuoteBlock',
};

const lessonBody = (slug: string) => Buffer.from(JSON.stringify({ query: LESSON_QUERY, variables: { slug } }));

/** POST /graphql with the lesson query, the slug rotating over every seeded lesson as the REST scenario's does. */
export function graphqlSlugScenario(lessons: readonly SeededLesson[]): ReadScenario {
  return { name: GRAPHQL_SLUG_SCENARIO, paths: ['/graphql'], bodies: lessons.map((l) => lessonBody(l.slug)) };
}

interface RestBlock { type: string; id: string; value: unknown }
interface GraphQLBlock { __typename?: string; id?: string; [field: string]: unknown }
interface GraphQLLesson { id?: number; title?: string; slug?: string; intro?: string | null; environment?: string | null; body?: GraphQLBlock[] }

/**
 * The GraphQL answer must be the REST answer for the same slug: the one lesson, with its
 * 20 blocks in order, each of its block type with the same id and the same values. Asked
 * anonymously, as the load asks. A wrong answer throws, which fails the run.
 */
export async function verifyGraphQLReads(client: ApiClient, lessons: readonly SeededLesson[], samples: readonly number[]): Promise<void> {
  for (const k of new Set(samples)) {
    const { slug, id } = lessons[k]!;
    const rest = await api<{ items?: { id: number; title: string; meta: { slug: string }; intro?: string; environment?: string; body: RestBlock[] }[] }>(
      client, 'GET', `/api/v2/pages/?type=lesson&slug=${encodeURIComponent(slug)}&fields=*`, { expected: 200, auth: false });
    const want = rest.items?.[0];
    if (!want) throw new UnexpectedStatusError(`REST found no lesson with slug ${slug}`);
    const res = await send(client, 'POST', '/graphql', { headers: { 'content-type': 'application/json', accept: 'application/json' }, body: lessonBody(slug), expected: 200, auth: false });
    const answer = JSON.parse(res.body.toString('utf8')) as { data?: { pages?: { items?: GraphQLLesson[] } }; errors?: unknown[] };
    const fail = (why: string) => new UnexpectedStatusError(`POST /graphql (lesson by slug ${slug}) answered 200 but ${why}: ${res.body.toString('utf8', 0, 300)}`);
    if (answer.errors?.length) throw fail(`with ${answer.errors.length} error(s)`);
    const items = answer.data?.pages?.items ?? [];
    const got = items[0];
    if (items.length !== 1 || !got || got.id !== id || got.slug !== slug || got.title !== want.title) throw fail(`not with exactly lesson ${id}`);
    if ((got.intro ?? null) !== (want.intro ?? null) || (got.environment ?? null) !== (want.environment ?? null)) throw fail('with another intro or environment than REST');
    if (got.body?.length !== BLOCKS_PER_LESSON || want.body.length !== BLOCKS_PER_LESSON) throw fail(`with a body of ${got.body?.length ?? 'no'} blocks, not ${BLOCKS_PER_LESSON}`);
    got.body.forEach((g, i) => {
      const r = want.body[i]!;
      const { __typename, id: blockId, ...fields } = g;
      if (__typename !== BLOCK_TYPENAMES[r.type] || blockId !== r.id) throw fail(`with block ${i + 1} a ${String(__typename)} ${String(blockId)}, where REST has a ${r.type} ${r.id}`);
      // Object values expose their properties as fields, scalar ones a `value` field.
      const value = r.value !== null && typeof r.value === 'object' ? r.value as Record<string, unknown> : null;
      const expected = value ? Object.fromEntries(Object.keys(fields).map((f) => [f, value[f] ?? null])) : { value: r.value };
      if (JSON.stringify(fields) !== JSON.stringify(expected)) throw fail(`with block ${i + 1} (${r.type}) ${JSON.stringify(fields).slice(0, 200)}, where REST has ${JSON.stringify(expected).slice(0, 200)}`);
    });
  }
}

export interface FanoutOptions {
  /** graphql-ws clients, each on a WebSocket of its own, subscribed to the one run. */
  subscribers: number;
  /** Lines the run prints after its first pause, one output each. */
  outputs: number;
}

export interface FanoutResult {
  subscribers: number;
  outputs: number;
  /** Opening every WebSocket up to the server's connection_ack (the token checked), OPEN_AT_ONCE at a time. */
  connectMs: number;
  /** Writing every subscribe message to its socket, once the run was started (202). */
  subscribeMs: number;
  /** From the last subscribe sent to the first output received: the margin the first pause left. */
  marginMs: number;
  /** POST …/execute/ sent → the first output received by any subscriber (the code sleeps FIRST_PAUSE_S first). */
  startToFirstOutputMs: number;
  firstPauseMs: number;
  /** Per output: the first subscriber receiving it → the last one. */
  spread: Latency;
  /** Per output: the kernel's clock when it printed the line → the first subscriber, and → the last. */
  printToFirst: Latency;
  printToLast: Latency;
  /** The final status event: first subscriber → last. */
  statusSpreadMs: number;
}

/** Before its first line the run sleeps this long, so every subscription is in place before the first output. */
const FIRST_PAUSE_S = 3;
/** Between lines: longer than a fan-out takes, so that outputs do not queue behind each other. */
const LINE_PAUSE_S = 0.2;
/** WebSockets being opened at once: the server's listen backlog is 511, and a flood of handshakes times the accept queue. */
const OPEN_AT_ONCE = 50;

/**
 * Prints `n` lines `<i> <time.time()>` after a pause: each line is one output (flushed),
 * and carries the kernel's wall clock at the print, the same clock as this process's
 * (one machine), to time the output from its creation.
 */
const fanoutCode = (n: number) => [
  'import time',
  `time.sleep(${FIRST_PAUSE_S})`,
  `for i in range(1, ${n + 1}):`,
  `    if i > 1: time.sleep(${LINE_PAUSE_S})`,
  '    print(i, repr(time.time()), flush=True)',
].join('\n');

const EVENTS_SUBSCRIPTION = `subscription Fanout($id: String!) {
  executionEvents(execution: $id) { seq event output { ... on NbOutputStream { text } } status }
}`;

interface ReceivedEvent { seq: number; event: string; output: { text?: string } | null; status: { status?: string } | null }

/** One subscriber: its client and what it received, when (performance.now()). */
interface Subscriber {
  client: Client;
  events: { e: ReceivedEvent; at: number }[];
  completed: boolean;
  error: string | null;
}

function latency(ms: readonly number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  return { samples: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  const close = err as { code?: unknown; reason?: unknown } | null;
  if (close && typeof close.code === 'number') return `closed with ${close.code} ${String(close.reason ?? '')}`.trim();
  return String(err);
}

/** A graphql-ws client on a WebSocket of its own, resolved once the server acknowledged its token. */
function connect(url: string, token: string, closed: Set<Client>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      // Connected now, not at the first subscribe: the subscriptions then cost only their message.
      lazy: false,
      // A lost connection is a failure to report, not one to hide by reconnecting.
      retryAttempts: 0,
      onNonLazyError: (err) => reject(new Error(`a graphql-ws connection failed: ${describe(err)}`)),
      on: {
        connected: () => resolve(client),
        closed: () => { closed.add(client); },
      },
    });
  });
}

/**
 * Subscription fan-out (issue 6): `subscribers` graphql-ws clients, each on its own
 * WebSocket, subscribed to executionEvents of one run on the embedded Pyodide kernel;
 * for each output, the time from the first subscriber receiving it to the last. Every
 * subscriber must receive every output, in order, then the status `ok`.
 */
export async function runFanoutBench(opts: FanoutOptions, register: (s: Stoppable) => void, log: (line: string) => void): Promise<FanoutResult> {
  const server = new ServerProcess();
  register(server);
  let t = performance.now();
  await server.start({
    databaseUrl: null,
    // Pyodide whatever the caller's environment says: no gateway to start, and its clock is this machine's.
    env: { KERNEL_GATEWAY: 'pyodide', RUNS_PER_MINUTE: '100000', EXECUTION_TIMEOUT_MS: '120000' },
  });
  log(`  server pid ${server.pid} ready at ${server.baseUrl} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const admin: ApiClient = { baseUrl: server.baseUrl, token: server.adminToken };

  // The run's learner subscribes from every client: only they (or an admin) may follow it.
  const { token } = await api<{ token: string }>(admin, 'POST', '/api/v2/tokens/', { expected: 201, body: { name: 'Bench fan-out learner', role: 'learner' } });
  const learner: ApiClient = { baseUrl: server.baseUrl, token };
  const page = await api<{ id: number; body: { id: string }[] }>(admin, 'POST', '/api/v2/pages/', {
    expected: 201, body: { type: 'lesson', title: 'Fan-out bench', publish: true, body: [{ type: 'jupyter', value: { code: fanoutCode(opts.outputs) } }] },
  });
  const executePath = `/api/v2/pages/${page.id}/blocks/${page.body[0]!.id}/execute/`;
  // The learner's kernel is started (Pyodide loads) by an untimed run first.
  t = performance.now();
  const warm = await api<{ status: string }>(learner, 'POST', `${executePath}?wait=true`, { expected: 200, body: { code: 'print("warm")' } });
  if (warm.status !== 'ok') throw new UnexpectedStatusError(`the warm-up run ended ${warm.status}`);
  log(`  the learner's Pyodide kernel started and ran a first cell in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const url = `${server.baseUrl.replace(/^http/, 'ws')}/graphql`;
  const clients: Client[] = [];
  const closed = new Set<Client>();
  try {
    t = performance.now();
    let next = 0;
    let failed = false;
    await Promise.all(Array.from({ length: Math.min(OPEN_AT_ONCE, opts.subscribers) }, async () => {
      // After a failure no more are opened: the ones open are closed below.
      while (!failed && next < opts.subscribers) {
        next++;
        clients.push(await connect(url, token, closed).catch((err: unknown) => { failed = true; throw err; }));
      }
    }));
    const connectMs = performance.now() - t;
    log(`  ${opts.subscribers} graphql-ws clients connected (connection_ack) in ${(connectMs / 1000).toFixed(2)} s, ${OPEN_AT_ONCE} at a time`);

    const started = performance.now();
    const run = await api<{ execution: { id: string } }>(learner, 'POST', executePath, { expected: 202, body: {} });
    const subscribing = performance.now();
    const subscribers: Subscriber[] = [];
    const allDone = Promise.all(clients.map((client) => new Promise<void>((resolve) => {
      const s: Subscriber = { client, events: [], completed: false, error: null };
      subscribers.push(s);
      client.subscribe<{ executionEvents: ReceivedEvent }>({ query: EVENTS_SUBSCRIPTION, variables: { id: run.execution.id } }, {
        next: (msg) => {
          const at = performance.now();
          if (msg.errors?.length) s.error ??= `errors: ${JSON.stringify(msg.errors).slice(0, 300)}`;
          if (msg.data?.executionEvents) s.events.push({ e: msg.data.executionEvents, at });
        },
        error: (err) => { s.error ??= describe(err); resolve(); },
        complete: () => { s.completed = true; resolve(); },
      });
    })));
    // The client sends each subscribe message from a promise callback: once they have all run, every one is written.
    await new Promise((r) => setImmediate(r));
    const subscribed = performance.now();
    const subscribeMs = subscribed - subscribing;

    // Long enough for the code, then a minute for the stragglers.
    const limitMs = (FIRST_PAUSE_S + opts.outputs * LINE_PAUSE_S) * 1000 + 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([allDone.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), limitMs); })]);
    clearTimeout(timer);

    // Every subscriber: outputs 1…n in order, each the line printed, then the status ok, then completion.
    const problems: string[] = [];
    const wrong = subscribers.filter((s, k) => {
      const why = s.error ?? (!s.completed ? (timedOut ? `not complete after ${limitMs / 1000} s` : 'not complete') : null) ?? checkEvents(s.events.map((x) => x.e), opts.outputs);
      if (why && problems.length < 3) problems.push(`subscriber ${k + 1}: ${why}`);
      return why !== null;
    });
    if (wrong.length) throw new UnexpectedStatusError(`${wrong.length} of ${opts.subscribers} subscribers did not receive the run's ${opts.outputs} outputs and its status: ${problems.join('; ')}`);

    const spread: number[] = [];
    const printToFirst: number[] = [];
    const printToLast: number[] = [];
    const firstAt: number[] = [];
    for (let i = 0; i <= opts.outputs; i++) {
      const times = subscribers.map((s) => s.events[i]!.at);
      const first = Math.min(...times);
      const last = Math.max(...times);
      firstAt.push(first);
      if (i === opts.outputs) break; // the status: no print time
      spread.push(last - first);
      // The kernel's clock at the print, in epoch ms; the receipts on this process's clock, as epoch ms.
      const printed = Number(/^\d+ (\S+)\n$/.exec(subscribers[0]!.events[i]!.e.output!.text!)![1]) * 1000;
      printToFirst.push(performance.timeOrigin + first - printed);
      printToLast.push(performance.timeOrigin + last - printed);
    }
    const statusTimes = subscribers.map((s) => s.events[opts.outputs]!.at);
    const marginMs = firstAt[0]! - subscribed;
    if (marginMs <= 0) {
      throw new UnexpectedStatusError(`the first output arrived ${(-marginMs).toFixed(0)} ms before the last subscription was sent: late subscribers got it as a replay, so the spread does not measure the fan-out`);
    }
    const sp = latency(spread);
    const pl = latency(printToLast);
    log(`  all ${opts.subscribers} received the ${opts.outputs} outputs and the status; per output, first → last subscriber p50 ${sp.p50.toFixed(1)} ms, `
      + `p99 ${sp.p99.toFixed(1)} ms, max ${sp.max.toFixed(1)} ms; kernel print → last subscriber p50 ${pl.p50.toFixed(1)} ms, max ${pl.max.toFixed(1)} ms`);
    return {
      subscribers: opts.subscribers, outputs: opts.outputs, connectMs, subscribeMs, marginMs,
      startToFirstOutputMs: firstAt[0]! - started, firstPauseMs: FIRST_PAUSE_S * 1000,
      spread: sp, printToFirst: latency(printToFirst), printToLast: pl,
      statusSpreadMs: Math.max(...statusTimes) - Math.min(...statusTimes),
    };
  } finally {
    // Every client closed, whatever happened: 500 open sockets would hold the server's stop.
    await Promise.all(clients.map((c) => c.dispose()));
    const deadline = performance.now() + 10_000;
    while (closed.size < clients.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (closed.size < clients.length) log(`  ${clients.length - closed.size} graphql-ws clients did not report their socket closed within 10 s`);
    await server.stop();
  }
}

/** Why a subscriber's events are not the run's outputs 1…n and then the status ok; null when they are. */
function checkEvents(events: readonly ReceivedEvent[], outputs: number): string | null {
  if (events.length !== outputs + 1) return `${events.length} events, expected ${outputs} outputs and the status`;
  for (let i = 0; i < outputs; i++) {
    const e = events[i]!;
    const m = /^(\d+) \S+\n$/.exec(e.output?.text ?? '');
    if (e.seq !== i + 1 || e.event !== 'output' || !m || Number(m[1]) !== i + 1) return `event ${i + 1} is ${JSON.stringify(e).slice(0, 200)}, expected output line ${i + 1}`;
  }
  const last = events[outputs]!;
  if (last.event !== 'status' || last.status?.status !== 'ok') return `the last event is ${JSON.stringify(last).slice(0, 200)}, expected the status ok`;
  return null;
}
