import type { Size } from './photos.js';

export type DbKind = 'pglite' | 'postgres';

export interface BenchOptions {
  /** The databases to run the whole benchmark against, in order. */
  databases: DbKind[];
  /** Server URL Postgres databases are created from (BENCH_POSTGRES_URL); null when unset. */
  postgresUrl: string | null;
  lessons: number;
  /** Seconds of each measured autocannon run. */
  duration: number;
  /** Seconds of the unreported warm-up before each autocannon run. */
  warmup: number;
  connections: number;
  saves: number;
  /** Revisions of one page for the history workloads; 0 skips them. */
  historyRevisions: number;
  /** Sequential `1 + 1` runs for the kernel workloads (against a real Jupyter Server); 0 skips them. */
  kernelRuns: number;
  learners: number;
  cellsPerLearner: number;
  /** Requests in flight while seeding. */
  seedConcurrency: number;
  /** Whether to run the media workloads (images, renditions, uploads). */
  media: boolean;
  /** Distinct large photos whose renditions are made, and their size. */
  mediaImages: number;
  mediaSize: Size;
  /** Sequential requests for renditions that exist. */
  renditionRequests: number;
  /** Photos per upload throughput run (0 skips those runs), their size, and uploads in flight in the second run. */
  uploads: number;
  uploadSize: Size;
  uploadConcurrency: number;
  /** graphql-ws clients subscribed to one run for the fan-out workload; 0 skips it. */
  subscribers: number;
  /** Outputs (printed lines) of that run. */
  subscriptionOutputs: number;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run bench -- [options]

  --db=pglite|postgres|both  databases to run against (default: pglite, plus postgres
                             when BENCH_POSTGRES_URL is set)
  --lessons=N                lessons to seed (default 1000)
  --duration=S               seconds of each measured read run (default 10)
  --connections=N            autocannon connections (default 50)
  --warmup=S                 seconds of unreported warm-up before each read run (default 2)
  --saves=N                  sequential saves to time (default 500)
  --history-revisions=N      revisions of one page for the history workloads (default 10000; 0 skips them)
  --kernel-runs=N            1 + 1 runs, direct and through the CMS, on a real Jupyter Server (default 200; 0 skips the kernel workloads)
  --learners=N --cells=N     learners running cells at once, and cells each (default 20 and 10)
  --seed-concurrency=N       create requests in flight while seeding (default 4)
  --media=0|1                the media workloads: renditions, their files under load, uploads (default 1)
  --media-images=N           distinct large photos uploaded, each rendition made by a first request (default 10)
  --media-size=WxH           size of those photos (default 4000x3000; at least 800x450)
  --rendition-requests=N     sequential requests for existing renditions (default 200)
  --uploads=N                photos per upload throughput run (default 50; 0 skips the runs)
  --upload-size=WxH          size of those photos (default 1600x1200)
  --upload-concurrency=N     uploads in flight in the second run (default 4; 1: only the sequential run)
  --subscribers=N            graphql-ws clients subscribed to one run's outputs (default 500; 0 skips the fan-out)
  --subscription-outputs=N   outputs of that run, each timed to every subscriber (default 20, at most 500)
  --help                     this text

Environment: BENCH_POSTGRES_URL=postgres://user@host:port/db (a database to create the
benchmark databases from).`;

type Env = Record<string, string | undefined>;

function intOption(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function sizeOption(name: string, raw: string, min: Size): Size {
  const m = /^(\d+)x(\d+)$/.exec(raw);
  const size = m ? { width: Number(m[1]), height: Number(m[2]) } : null;
  if (!size || size.width < min.width || size.height < min.height || size.width > 30_000 || size.height > 30_000) {
    throw new UsageError(`--${name} must be WIDTHxHEIGHT between ${min.width}x${min.height} and 30000x30000, got "${raw}"`);
  }
  return size;
}

/** Parses `--name=value` arguments; returns null when `--help` was asked for. */
export function parseOptions(argv: readonly string[], env: Env): BenchOptions | null {
  const postgresUrl = env.BENCH_POSTGRES_URL?.trim() || null;
  if (postgresUrl !== null && !/^postgres(ql)?:\/\//.test(postgresUrl)) {
    throw new UsageError('BENCH_POSTGRES_URL must be a postgres:// or postgresql:// URL');
  }
  const opts: BenchOptions = {
    databases: postgresUrl ? ['pglite', 'postgres'] : ['pglite'],
    postgresUrl,
    lessons: 1000,
    duration: 10,
    warmup: 2,
    connections: 50,
    saves: 500,
    historyRevisions: 10_000,
    kernelRuns: 200,
    learners: 20,
    cellsPerLearner: 10,
    seedConcurrency: 4,
    media: true,
    mediaImages: 10,
    mediaSize: { width: 4000, height: 3000 },
    renditionRequests: 200,
    uploads: 50,
    uploadSize: { width: 1600, height: 1200 },
    uploadConcurrency: 4,
    subscribers: 500,
    subscriptionOutputs: 20,
  };
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return null;
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new UsageError(`unknown argument "${arg}" (options take the form --name=value)`);
    const [, name, value] = m as unknown as [string, string, string];
    switch (name) {
      case 'db':
        if (value === 'pglite') opts.databases = ['pglite'];
        else if (value === 'postgres') opts.databases = ['postgres'];
        else if (value === 'both') opts.databases = ['pglite', 'postgres'];
        else throw new UsageError(`--db must be pglite, postgres or both, got "${value}"`);
        break;
      case 'lessons': opts.lessons = intOption(name, value, 1, 1_000_000); break;
      case 'duration': opts.duration = intOption(name, value, 1, 3600); break;
      case 'warmup': opts.warmup = intOption(name, value, 0, 600); break;
      case 'connections': opts.connections = intOption(name, value, 1, 10_000); break;
      case 'saves': opts.saves = intOption(name, value, 0, 1_000_000); break;
      case 'history-revisions': opts.historyRevisions = intOption(name, value, 0, 1_000_000); break;
      case 'kernel-runs': opts.kernelRuns = intOption(name, value, 0, 100_000); break;
      case 'learners': opts.learners = intOption(name, value, 1, 1_000); break;
      case 'cells': opts.cellsPerLearner = intOption(name, value, 1, 10_000); break;
      case 'seed-concurrency': opts.seedConcurrency = intOption(name, value, 1, 256); break;
      case 'media': opts.media = intOption(name, value, 0, 1) === 1; break;
      case 'media-images': opts.mediaImages = intOption(name, value, 1, 1_000); break;
      // Smaller than the rendition, a photo would give a smaller one (renditions never enlarge).
      case 'media-size': opts.mediaSize = sizeOption(name, value, { width: 800, height: 450 }); break;
      case 'rendition-requests': opts.renditionRequests = intOption(name, value, 1, 1_000_000); break;
      case 'uploads': opts.uploads = intOption(name, value, 0, 100_000); break;
      case 'upload-size': opts.uploadSize = sizeOption(name, value, { width: 16, height: 16 }); break;
      case 'upload-concurrency': opts.uploadConcurrency = intOption(name, value, 1, 256); break;
      // Each subscriber holds a file descriptor here and one in the server (a soft limit of 1024 is common).
      case 'subscribers': opts.subscribers = intOption(name, value, 0, 10_000); break;
      // 0.2 s apart, 500 lines stay within the run's time limit the fan-out server is given (120 s).
      case 'subscription-outputs': opts.subscriptionOutputs = intOption(name, value, 1, 500); break;
      default: throw new UsageError(`unknown option --${name}`);
    }
  }
  if (opts.databases.includes('postgres') && postgresUrl === null) {
    throw new UsageError('--db=postgres and --db=both need BENCH_POSTGRES_URL (for example postgres://postgres@127.0.0.1:5432/postgres)');
  }
  return opts;
}
