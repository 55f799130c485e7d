/**
 * `npm run bench`: starts the CMS as a child process on a fresh data directory, seeds
 * lessons through the HTTP API, measures reads with autocannon and sequential saves,
 * and prints the figures. A benchmark, not a test: missed targets do not fail it; a
 * server that does not start or an unexpected status does. See bench/README.md.
 */
import { api, UnexpectedStatusError, type ApiClient } from './http.js';
import { BLOCKS_PER_LESSON, isKorean } from './lessons.js';
import { abortLoad, runReadScenario, type LoadSettings, type ReadScenario } from './load.js';
import { parseOptions, USAGE, UsageError, type BenchOptions, type DbKind } from './options.js';
import { createBenchDatabase, postgresVersion } from './postgres.js';
import { fanoutSummary, kernelSummary, machineLine, mediaSummary, readLine, savesLine, SLUG_SCENARIO, summary, type DbReport } from './report.js';
import { graphqlSlugScenario, runFanoutBench, verifyGraphQLReads, type FanoutResult } from './graphql.js';
import { runHistoryBench } from './history.js';
import { runKernelBench, type KernelBenchResult } from './kernels.js';
import { runMediaBench, type MediaBenchResult, type Stoppable } from './media.js';
import { runSaves } from './saves.js';
import { seedLessons, type SeededLesson } from './seed.js';
import { PASS_THROUGH_ENV, ServerProcess, ServerStartError, serverRevision } from './server-process.js';

const LISTING_PAGE_SIZE = 20;

/** Cleanup steps of the database being benchmarked, last registered first. */
const cleanups: { name: string; fn: () => Promise<void> }[] = [];
/** Child processes to stop on Ctrl-C and to kill on a hard exit: CMS servers, the media baseline. */
const liveServers = new Set<Stoppable>();
/** Why the run is being cut short (a signal, a closed output), once it is. */
let interrupted: string | null = null;

class InterruptedError extends Error {
  override name = 'InterruptedError';
}

function checkInterrupted(): void {
  if (interrupted) throw new InterruptedError(`interrupted by ${interrupted}`);
}

/** Runs the registered cleanups down to `mark`, last first; returns what failed. */
async function runCleanups(mark = 0): Promise<string[]> {
  const failures: string[] = [];
  while (cleanups.length > mark) {
    const { name, fn } = cleanups.pop()!;
    await fn().catch((err: Error) => {
      failures.push(`cleanup "${name}" failed: ${err.message}`);
      console.error(`  cleanup "${name}" failed: ${err.message}`);
    });
  }
  return failures;
}

/**
 * Ctrl-C, SIGTERM or a closed output pipe (`| head`) stop the load and the server so that
 * the run unwinds through its own cleanup (server stopped, data directory and database
 * deleted) and exits.
 */
function installInterruptHandlers(): void {
  let first = 0;
  const interrupt = (reason: string) => {
    if (interrupted) {
      // tsx relays the terminal's signal to this process too: a repeat within 3 s is that copy.
      if (Date.now() - first < 3000) return;
      console.error(`\n${reason} again: killing the server and exiting now`);
      process.exit(130);
    }
    interrupted = reason;
    first = Date.now();
    console.error(`\n${reason}: stopping the server and cleaning up (send it again to exit at once)`);
    abortLoad();
    for (const s of liveServers) void s.stop();
    // Should unwinding hang, leave anyway (the exit handler kills the server).
    setTimeout(() => process.exit(130), 30_000).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => interrupt(signal));
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      interrupt('output closed');
    });
  }
  // Last resort (process.exit from anywhere): nothing asynchronous runs here.
  process.on('exit', () => { for (const s of liveServers) s.killSync(); });
}

/**
 * The slug query must find exactly one lesson with its whole body, and the GraphQL query
 * the same lesson and blocks: real answers are measured.
 */
async function verifyReads(client: ApiClient, lessons: readonly SeededLesson[]): Promise<void> {
  const samples = [0, lessons.findIndex((_, k) => isKorean(k + 1)), lessons.length - 1].filter((k) => k >= 0);
  for (const k of new Set(samples)) {
    const { slug, id } = lessons[k]!;
    const path = slugPath(slug);
    const res = await api<{ items?: { id?: number; meta?: { slug?: string }; body?: unknown[] }[] }>(client, 'GET', path, { expected: 200, auth: false });
    const items = res.items ?? [];
    if (items.length !== 1 || items[0]!.id !== id || items[0]!.meta?.slug !== slug || items[0]!.body?.length !== BLOCKS_PER_LESSON) {
      throw new UnexpectedStatusError(`GET ${path} answered 200 but not with exactly lesson ${id} and its ${BLOCKS_PER_LESSON} blocks: `
        + `${items.length} item(s), body of ${items[0]?.body?.length ?? 'no'} blocks`);
    }
  }
  await verifyGraphQLReads(client, lessons, samples);
  const detail = await api<{ id?: number; body?: unknown[] }>(client, 'GET', `/api/v2/pages/${lessons[0]!.id}/`, { expected: 200, auth: false });
  if (detail.id !== lessons[0]!.id || detail.body?.length !== BLOCKS_PER_LESSON) {
    throw new UnexpectedStatusError(`GET /api/v2/pages/${lessons[0]!.id}/ answered 200 without the lesson's ${BLOCKS_PER_LESSON} blocks`);
  }
  const listing = await api<{ meta?: { total_count?: number }; items?: unknown[] }>(client, 'GET', listingPath(0), { expected: 200, auth: false });
  if (listing.meta?.total_count !== lessons.length || listing.items?.length !== Math.min(LISTING_PAGE_SIZE, lessons.length)) {
    throw new UnexpectedStatusError(`GET ${listingPath(0)} answered total_count ${listing.meta?.total_count} with ${listing.items?.length} items; expected ${lessons.length} and ${Math.min(LISTING_PAGE_SIZE, lessons.length)}`);
  }
}

const slugPath = (slug: string) => `/api/v2/pages/?type=lesson&slug=${encodeURIComponent(slug)}&fields=*`;
const listingPath = (offset: number) => `/api/v2/pages/?type=lesson&limit=${LISTING_PAGE_SIZE}&offset=${offset}`;

function readScenarios(lessons: readonly SeededLesson[]): ReadScenario[] {
  const offsets: number[] = [];
  for (let o = 0; o < lessons.length; o += LISTING_PAGE_SIZE) offsets.push(o);
  return [
    { name: SLUG_SCENARIO, paths: lessons.map((l) => slugPath(l.slug)) },
    // Next to its REST twin, in the same run on the same data.
    graphqlSlugScenario(lessons),
    { name: 'detail by id', paths: lessons.map((l) => `/api/v2/pages/${l.id}/`) },
    { name: 'page listing', paths: offsets.map(listingPath) },
  ];
}

/** The whole benchmark on one database. Never throws: failures land in `report.problems`. */
async function benchmarkOn(kind: DbKind, opts: BenchOptions): Promise<DbReport> {
  const report: DbReport = { label: kind === 'pglite' ? 'PGlite (embedded)' : 'Postgres', reads: [], problems: [] };
  const mark = cleanups.length;
  try {
    let databaseUrl: string | null = null;
    if (kind === 'postgres') {
      const serverUrl = opts.postgresUrl!;
      const db = await createBenchDatabase(serverUrl);
      cleanups.push({ name: `drop database ${db.name}`, fn: () => db.drop() });
      databaseUrl = db.url;
      report.label = `${await postgresVersion(serverUrl)} (database ${db.name})`;
    }
    checkInterrupted();
    console.log(`\n### ${report.label}`);

    const server = new ServerProcess();
    liveServers.add(server);
    cleanups.push({ name: 'stop server', fn: async () => { await server.stop(); liveServers.delete(server); } });
    let t = Date.now();
    await server.start({ databaseUrl });
    console.log(`server pid ${server.pid} ready at ${server.baseUrl} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const client: ApiClient = { baseUrl: server.baseUrl, token: server.adminToken };
    checkInterrupted();

    console.log(`\nseeding ${opts.lessons} published lessons of ${BLOCKS_PER_LESSON} blocks (${opts.seedConcurrency} requests in flight)`);
    t = Date.now();
    const seed = await seedLessons(client, opts.lessons, opts.seedConcurrency, (line) => console.log(line));
    report.seed = seed;
    console.log(`seeding took ${(seed.ms / 1000).toFixed(1)} s: ${(opts.lessons / (seed.ms / 1000)).toFixed(1)} creates/s, ~${(seed.avgPayloadBytes / 1024).toFixed(1)} KB of JSON per lesson`);

    checkInterrupted();
    await verifyReads(client, seed.lessons);
    console.log('checked: the slug query returns exactly one lesson with its 20 blocks, the GraphQL query the same lesson and blocks; detail and listing answer 200');

    const settings: LoadSettings = { duration: opts.duration, warmup: opts.warmup, connections: opts.connections };
    console.log(`\nreads: autocannon, ${settings.connections} connections, ${settings.duration} s each after a ${settings.warmup} s warm-up, anonymous GETs (GraphQL: POST /graphql)`);
    for (const scenario of readScenarios(seed.lessons)) {
      const r = await runReadScenario(server.baseUrl, scenario, settings);
      checkInterrupted();
      report.reads.push(r);
      console.log(readLine(r));
      if (r.non2xx > 0) report.problems.push(`${r.name}: ${r.non2xx} non-2xx responses (${JSON.stringify(r.statusCodes)})`);
    }

    console.log(`\nsaves: ${opts.saves} sequential PATCH /api/v2/pages/<id>/ {"intro": "edit N"}`);
    const saves = await runSaves(client, seed.lessons.map((l) => l.id), opts.saves);
    checkInterrupted();
    report.saves = saves;
    console.log(savesLine(saves));

    if (opts.historyRevisions > 0) {
      console.log(`\nhistory: compare of a 300-block lesson; revision listing, block history and a git clone with ${opts.historyRevisions} revisions of one page`);
      report.history = await runHistoryBench(client, server.contentRepo, opts.historyRevisions, (line) => console.log(line));
      checkInterrupted();
    }
  } catch (err) {
    if (interrupted) {
      report.problems.push(`interrupted by ${interrupted}`);
      return report;
    }
    const what = err instanceof ServerStartError ? 'the server did not start' : err instanceof UnexpectedStatusError ? 'unexpected response' : 'error';
    console.error(`\n${what}: ${(err as Error).stack ?? String(err)}`);
    report.problems.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    report.problems.push(...await runCleanups(mark));
  }
  return report;
}

async function main(): Promise<number> {
  let opts: BenchOptions | null;
  try {
    opts = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  installInterruptHandlers();

  console.log('Lectern benchmark');
  console.log(machineLine());
  const revision = serverRevision();
  console.log(`server code: commit ${revision}`);
  console.log(`databases: ${opts.databases.join(', ')}; ${opts.lessons} lessons; reads ${opts.duration} s at ${opts.connections} connections (warm-up ${opts.warmup} s); ${opts.saves} saves`
    + (opts.subscribers > 0 ? `; ${opts.subscribers} subscribers × ${opts.subscriptionOutputs} outputs` : ''));
  const passed = PASS_THROUGH_ENV.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  if (passed.length) console.log(`server settings from the environment: ${passed.join(' ')}`);

  const reports: DbReport[] = [];
  for (const kind of opts.databases) {
    reports.push(await benchmarkOn(kind, opts));
    if (interrupted) {
      console.error('interrupted: cleaned up, no summary');
      return 130;
    }
  }

  let kernels: KernelBenchResult | null = null;
  const kernelProblems: string[] = [];
  if (opts.kernelRuns > 0) {
    console.log(`\n### Kernels (a real Jupyter Server; the CMS on PGlite)`);
    try {
      kernels = await runKernelBench({ runs: opts.kernelRuns, learners: opts.learners, cells: opts.cellsPerLearner }, (s) => {
        liveServers.add(s);
        cleanups.push({ name: 'stop kernel bench server', fn: async () => { await s.stop(); liveServers.delete(s); } });
      }, (line) => console.log(line));
    } catch (err) {
      kernelProblems.push(`kernel workloads: ${(err as Error).message.split('\n')[0]}`);
      console.error(`\nkernel workloads failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      kernelProblems.push(...await runCleanups());
    }
  }
  if (interrupted) {
    console.error('interrupted: cleaned up, no summary');
    return 130;
  }

  let media: MediaBenchResult | null = null;
  const mediaProblems: string[] = [];
  if (opts.media) {
    console.log(`\n### Media (images and renditions; the CMS on PGlite)`);
    try {
      media = await runMediaBench({
        images: opts.mediaImages, size: opts.mediaSize, renditionRequests: opts.renditionRequests,
        uploads: opts.uploads, uploadSize: opts.uploadSize, uploadConcurrency: opts.uploadConcurrency,
        load: { duration: opts.duration, warmup: opts.warmup, connections: opts.connections },
      }, (s) => {
        liveServers.add(s);
        cleanups.push({ name: 'stop media bench server', fn: async () => { await s.stop(); liveServers.delete(s); } });
      }, (line) => console.log(line));
      for (const r of [media.file, media.staticFile]) {
        if (r.non2xx > 0) mediaProblems.push(`media, ${r.name}: ${r.non2xx} non-2xx responses (${JSON.stringify(r.statusCodes)})`);
        if (r.errors > 0) mediaProblems.push(`media, ${r.name}: ${r.errors} errors (timeouts ${r.timeouts})`);
      }
    } catch (err) {
      if (!interrupted) {
        mediaProblems.push(`media workloads: ${(err as Error).message.split('\n')[0]}`);
        console.error(`\nmedia workloads failed: ${(err as Error).stack ?? String(err)}`);
      }
    } finally {
      mediaProblems.push(...await runCleanups());
    }
    if (interrupted) {
      console.error('interrupted: cleaned up, no summary');
      return 130;
    }
  }

  let fanout: FanoutResult | null = null;
  const fanoutProblems: string[] = [];
  if (opts.subscribers > 0) {
    console.log(`\n### GraphQL subscription fan-out (graphql-ws; a Pyodide kernel; the CMS on PGlite)`);
    try {
      fanout = await runFanoutBench({ subscribers: opts.subscribers, outputs: opts.subscriptionOutputs }, (s) => {
        liveServers.add(s);
        cleanups.push({ name: 'stop fan-out bench server', fn: async () => { await s.stop(); liveServers.delete(s); } });
      }, (line) => console.log(line));
    } catch (err) {
      if (!interrupted) {
        fanoutProblems.push(`subscription fan-out: ${(err as Error).message.split('\n')[0]}`);
        console.error(`\nsubscription fan-out failed: ${(err as Error).stack ?? String(err)}`);
      }
    } finally {
      fanoutProblems.push(...await runCleanups());
    }
    if (interrupted) {
      console.error('interrupted: cleaned up, no summary');
      return 130;
    }
  }

  console.log(summary(reports, revision));
  if (kernels) console.log(kernelSummary(kernels));
  for (const p of kernelProblems) console.log(`  PROBLEM: ${p}`);
  if (media) console.log(mediaSummary(media));
  else if (mediaProblems.length) console.log('\nMedia');
  for (const p of mediaProblems) console.log(`  PROBLEM: ${p}`);
  if (fanout) console.log(fanoutSummary(fanout));
  else if (fanoutProblems.length) console.log('\nGraphQL subscription fan-out');
  for (const p of fanoutProblems) console.log(`  PROBLEM: ${p}`);
  const failed = reports.some((r) => r.problems.length > 0) || mediaProblems.length > 0 || kernelProblems.length > 0 || fanoutProblems.length > 0
    || (kernels?.failures ?? 0) > 0;
  if (failed) console.log('\nThe benchmark FAILED (see PROBLEM lines): its figures do not measure correct answers.');
  return failed ? 1 : 0;
}

// Exit explicitly: idle keep-alive sockets of fetch would otherwise hold the process for seconds.
main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error('bench: failed:', err);
    await runCleanups();
    process.exit(1);
  },
);
