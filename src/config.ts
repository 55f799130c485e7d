import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The only reader of process.env. Every setting has an embedded default so that
 * `npm start` works on a fresh clone; production overrides them (README: Configuration).
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Postgres connection string; null means the embedded PGlite in `${dataDir}/db`. */
  readonly databaseUrl: string | null;
  readonly pgliteDir: string;
  readonly contentRepoDir: string;
  readonly adminToken: string | null;
  /** Base URL of the frontend site for `meta.html_url`; null means the request's own origin. */
  readonly siteUrl: string | null;
  readonly apiLimitMax: number;
  /** Number of public read responses kept in memory; 0 turns the cache off. */
  readonly readCacheEntries: number;
  /** How often (ms) a process checks whether another one changed content. */
  readonly contentPollMs: number;
  readonly bodyLimitBytes: number;
  /** fsync git objects and refs before acknowledging a save (power-loss safety; slower). */
  readonly gitFsync: boolean;
  /** How often (ms) the server repacks the git repository (`git repack`); 0 turns it off. */
  readonly gitRepackIntervalMs: number;
  /** How often (ms) the scheduler publishes and unpublishes what is due; 0 turns it off. */
  readonly schedulerIntervalMs: number;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  readonly kernels: KernelConfig;
  readonly media: MediaConfig;
  readonly webhooks: WebhookConfig;
  readonly graphql: GraphQLConfig;
  /** redis://…: events (GraphQL subscriptions) reach every process sharing it; null: this process only. */
  readonly redisUrl: string | null;
  /** LECTERN_TOKEN: the token the CLI sends to a running server (`lectern import`). */
  readonly cliToken: string | null;
}

/** The GraphQL endpoint's protections (README "GraphQL"). */
export interface GraphQLConfig {
  readonly graphiql: boolean;
  readonly maxDepth: number;
  /** The most a query may cost: one per field, times the `limit` (or 20) of lists it is in. */
  readonly maxComplexity: number;
  readonly bodyLimitBytes: number;
  /** A JSON file of {"<sha256>": "<query>"}: only those queries run (persisted queries). */
  readonly allowlistFile: string | null;
}

/** Webhook deliveries (README "Configuration"). */
export interface WebhookConfig {
  /** How long a receiver has to answer one delivery. */
  readonly timeoutMs: number;
  /** Attempts per delivery, the first included; then it is marked failed. */
  readonly maxAttempts: number;
  /** The wait before the first retry; each later one waits four times longer, up to an hour. */
  readonly retryBaseMs: number;
  /** How often each process looks for deliveries that are due; 0 turns delivery off in this process. */
  readonly pollMs: number;
}

/** Images, documents and where their files live (DESIGN.md §3; README "Configuration"). */
export interface MediaConfig {
  readonly storage: 'local' | 's3';
  /** `local`: the directory (default `${DATA_DIR}/media`). */
  readonly dir: string;
  readonly s3: {
    readonly endpoint: string | null;
    readonly region: string;
    readonly bucket: string | null;
    readonly accessKeyId: string | null;
    readonly secretAccessKey: string | null;
    readonly forcePathStyle: boolean;
    readonly prefix: string;
  };
  /** A public base URL the files can be fetched from directly (a CDN or a public bucket); null: the CMS serves them under /media/. */
  readonly publicUrl: string | null;
  readonly maxImageBytes: number;
  /** Images with more pixels are refused before they are decoded (decompression bombs). */
  readonly maxImagePixels: number;
  readonly maxDocumentBytes: number;
  /** Renditions anonymous requests may make per image; editors make more. */
  readonly maxRenditionsPerImage: number;
}

/** Running Jupyter blocks (DESIGN.md §6; README "Configuration"). */
export interface KernelConfig {
  /** `pyodide` (embedded, the default), `jupyter` (Jupyter Server, Kernel or Enterprise Gateway) or `none`. */
  readonly gateway: 'pyodide' | 'jupyter' | 'none';
  readonly gatewayUrl: string | null;
  readonly gatewayToken: string | null;
  /** The lesson environments file (schemas/environments.json). */
  readonly environmentsFile: string;
  readonly executionTimeoutMs: number;
  /** After an interrupt at the time limit, how long the kernel has to stop before it is restarted. */
  readonly interruptGraceMs: number;
  readonly runsPerMinute: number;
  readonly kernelsPerLearner: number;
  /** Kernels this process holds on its gateway at most; beyond it a new kernel is refused with 429. */
  readonly maxKernels: number;
  readonly kernelIdleTtlMs: number;
  readonly maxCodeBytes: number;
  readonly maxOutputBytes: number;
  /** Gateway requests (kernelspecs, interrupt, opening a kernel's WebSocket) that take longer fail with 503. */
  readonly gatewayTimeoutMs: number;
  /** Starting (or restarting) a kernel, which waits for its process or container to come up. */
  readonly kernelStartTimeoutMs: number;
  /** A new kernel that has not opened its WebSocket and answered by then is replaced by another. */
  readonly kernelReadyTimeoutMs: number;
  /** Pyodide processes kept loaded and ready for the next kernel. */
  readonly pyodideSpares: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function str(env: Env, key: string): string | null {
  const raw = env[key];
  return raw === undefined || raw.trim() === '' ? null : raw.trim();
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = str(env, key);
  if (raw === null) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function kernelConfig(env: Env): KernelConfig {
  const gateway = str(env, 'KERNEL_GATEWAY') ?? 'pyodide';
  if (gateway !== 'pyodide' && gateway !== 'jupyter' && gateway !== 'none') {
    throw new ConfigError(`KERNEL_GATEWAY must be pyodide, jupyter or none, got "${gateway}"`);
  }
  const gatewayUrl = str(env, 'KERNEL_GATEWAY_URL')?.replace(/\/+$/, '') ?? null;
  if (gateway === 'jupyter' && !gatewayUrl) throw new ConfigError('KERNEL_GATEWAY=jupyter needs KERNEL_GATEWAY_URL (for example http://127.0.0.1:8888)');
  if (gatewayUrl !== null && !/^https?:\/\/[^/]+/.test(gatewayUrl)) throw new ConfigError(`KERNEL_GATEWAY_URL must be an http(s) URL, got "${gatewayUrl}"`);
  return Object.freeze({
    gateway,
    gatewayUrl,
    gatewayToken: str(env, 'KERNEL_GATEWAY_TOKEN'),
    environmentsFile: resolve(str(env, 'ENVIRONMENTS_FILE') ?? fileURLToPath(new URL('../environments.json', import.meta.url))),
    executionTimeoutMs: int(env, 'EXECUTION_TIMEOUT_MS', 30_000, 100, 86_400_000),
    interruptGraceMs: int(env, 'KERNEL_INTERRUPT_GRACE_MS', 5_000, 0, 600_000),
    runsPerMinute: int(env, 'RUNS_PER_MINUTE', 30, 1, 100_000),
    kernelsPerLearner: int(env, 'KERNELS_PER_LEARNER', 2, 1, 1_000),
    maxKernels: int(env, 'MAX_KERNELS', 16, 1, 100_000),
    kernelIdleTtlMs: int(env, 'KERNEL_IDLE_TTL_MS', 600_000, 1_000, 604_800_000),
    maxCodeBytes: int(env, 'MAX_CODE_BYTES', 100 * 1024, 1, 64 * 1024 * 1024),
    maxOutputBytes: int(env, 'MAX_OUTPUT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    gatewayTimeoutMs: int(env, 'KERNEL_GATEWAY_TIMEOUT_MS', 5_000, 100, 600_000),
    kernelStartTimeoutMs: int(env, 'KERNEL_START_TIMEOUT_MS', 60_000, 1_000, 3_600_000),
    kernelReadyTimeoutMs: int(env, 'KERNEL_READY_TIMEOUT_MS', 15_000, 500, 3_600_000),
    pyodideSpares: int(env, 'PYODIDE_SPARES', 1, 0, 16),
  });
}

function redisUrl(env: Env): string | null {
  const url = str(env, 'REDIS_URL');
  if (url !== null && !/^rediss?:\/\/[^/]/.test(url)) throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got "${url}"`);
  return url;
}

function mediaConfig(env: Env, dataDir: string): MediaConfig {
  const storage = str(env, 'MEDIA_STORAGE') ?? 'local';
  if (storage !== 'local' && storage !== 's3') throw new ConfigError(`MEDIA_STORAGE must be local or s3, got "${storage}"`);
  const bucket = str(env, 'S3_BUCKET');
  if (storage === 's3' && !bucket) throw new ConfigError('MEDIA_STORAGE=s3 needs S3_BUCKET');
  const endpoint = str(env, 'S3_ENDPOINT');
  if (endpoint !== null && !/^https?:\/\/[^/]+/.test(endpoint)) throw new ConfigError(`S3_ENDPOINT must be an http(s) URL, got "${endpoint}"`);
  const publicUrl = str(env, 'MEDIA_PUBLIC_URL');
  if (publicUrl !== null && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`MEDIA_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  const prefix = str(env, 'S3_PREFIX') ?? '';
  if (prefix && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(prefix)) throw new ConfigError(`S3_PREFIX must be folder names ending with "/", got "${prefix}"`);
  return Object.freeze({
    storage,
    dir: resolve(str(env, 'MEDIA_DIR') ?? resolve(dataDir, 'media')),
    s3: Object.freeze({
      endpoint,
      region: str(env, 'S3_REGION') ?? 'us-east-1',
      bucket,
      accessKeyId: str(env, 'S3_ACCESS_KEY_ID'),
      secretAccessKey: str(env, 'S3_SECRET_ACCESS_KEY'),
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', endpoint !== null),
      prefix,
    }),
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    maxImageBytes: int(env, 'MAX_IMAGE_BYTES', 50 * 1024 * 1024, 1, 4 * 1024 * 1024 * 1024),
    maxImagePixels: int(env, 'MAX_IMAGE_PIXELS', 128_000_000, 1, 2_000_000_000),
    maxDocumentBytes: int(env, 'MAX_DOCUMENT_BYTES', 100 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
    maxRenditionsPerImage: int(env, 'MAX_RENDITIONS_PER_IMAGE', 50, 1, 100_000),
  });
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const dataDir = resolve(str(env, 'DATA_DIR') ?? './data');
  const databaseUrl = str(env, 'DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const siteUrl = str(env, 'SITE_URL');
  if (siteUrl !== null && !/^https?:\/\/[^/]+/.test(siteUrl)) {
    throw new ConfigError(`SITE_URL must be an http(s) URL, got "${siteUrl}"`);
  }
  const adminToken = str(env, 'ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < 16) {
    throw new ConfigError('ADMIN_TOKEN must be at least 16 characters long');
  }
  const logLevel = str(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const config: Config = {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: str(env, 'HOST') ?? 'localhost',
    dataDir,
    databaseUrl,
    pgliteDir: resolve(dataDir, 'db'),
    contentRepoDir: resolve(str(env, 'CONTENT_REPO') ?? resolve(dataDir, 'content.git')),
    adminToken,
    siteUrl: siteUrl?.replace(/\/+$/, '') ?? null,
    apiLimitMax: int(env, 'API_LIMIT_MAX', 20, 1, 10_000),
    readCacheEntries: int(env, 'READ_CACHE_ENTRIES', 5000, 0, 1_000_000),
    contentPollMs: int(env, 'CONTENT_POLL_MS', 500, 50, 60_000),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    gitFsync: bool(env, 'GIT_FSYNC', false),
    schedulerIntervalMs: int(env, 'SCHEDULER_INTERVAL_MS', 5000, 0, 86_400_000),
    gitRepackIntervalMs: int(env, 'GIT_REPACK_INTERVAL_MS', 0, 0, 604_800_000),
    logLevel,
    trustProxy: bool(env, 'TRUST_PROXY', false),
    kernels: kernelConfig(env),
    media: mediaConfig(env, dataDir),
    graphql: Object.freeze({
      graphiql: bool(env, 'GRAPHIQL', env.NODE_ENV !== 'production'),
      maxDepth: int(env, 'GRAPHQL_MAX_DEPTH', 12, 2, 100),
      maxComplexity: int(env, 'GRAPHQL_MAX_COMPLEXITY', 20_000, 10, 10_000_000),
      bodyLimitBytes: int(env, 'GRAPHQL_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      allowlistFile: str(env, 'GRAPHQL_ALLOWLIST') ? resolve(str(env, 'GRAPHQL_ALLOWLIST')!) : null,
    }),
    redisUrl: redisUrl(env),
    webhooks: Object.freeze({
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
      maxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
      retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 10_000, 10, 86_400_000),
      pollMs: int(env, 'WEBHOOK_POLL_MS', 1_000, 0, 3_600_000),
    }),
    cliToken: str(env, 'LECTERN_TOKEN'),
    ...overrides,
  };
  return Object.freeze(config);
}
