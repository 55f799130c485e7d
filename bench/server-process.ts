import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the server runs from there so `--import tsx` resolves. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Server settings the benchmark leaves to the caller's environment (printed when set). */
export const PASS_THROUGH_ENV = ['READ_CACHE_ENTRIES', 'API_LIMIT_MAX', 'GIT_FSYNC', 'CONTENT_POLL_MS', 'BODY_LIMIT_BYTES', 'SITE_URL', 'TRUST_PROXY', 'MAX_IMAGE_BYTES', 'MAX_IMAGE_PIXELS'];
/**
 * Settings the benchmark owns; inherited values are dropped so a run is reproducible.
 * Media stays on local storage in the data directory: the run's files go with it, and
 * rendition URLs point at this server's /media/, which the media workloads load.
 */
const OWNED_ENV = ['DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL', 'ADMIN_TOKEN', 'DATABASE_URL', 'CONTENT_REPO', 'MEDIA_STORAGE', 'MEDIA_DIR', 'MEDIA_PUBLIC_URL'];

/** The commit the server code is at, and whether its src/, migrations/, blocks/ or schemas/ differ from it. */
export function serverRevision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'src', 'migrations', 'blocks', 'schemas') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in src/migrations/blocks/schemas' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

const READY_TIMEOUT_MS = 90_000;
/** Longer than the server's own 10 s forced exit, so SIGKILL is for a server that hangs past that. */
const STOP_TIMEOUT_MS = 15_000;
/** Server log lines echoed to the console; the rest are counted. */
const ECHO_LINES = 20;

export class ServerStartError extends Error {
  override name = 'ServerStartError';
}

export interface ServerOptions {
  /** Postgres database URL; null runs on the embedded PGlite. */
  databaseUrl: string | null;
  /** More settings for this server (the kernel gateway for the kernel workloads). */
  env?: Record<string, string>;
}

/** A token of 32 characters from [A-Za-z0-9]. */
function randomToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(32), (b) => alphabet[b % alphabet.length]).join('');
}

/** A port nobody listens on right now (the kernel's choice). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The CMS as a child process (`node --import tsx src/server.ts`) on a fresh data
 * directory and a free port. `stop()` ends it and deletes the directory.
 */
export class ServerProcess {
  readonly adminToken = randomToken();
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private dataDir: string | null = null;
  private readonly recent: string[] = [];
  private echoed = 0;
  private suppressed = 0;
  private stopping: Promise<void> | null = null;
  private port = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The server's git repository (DATA_DIR/content.git). */
  get contentRepo(): string {
    if (!this.dataDir) throw new Error('the server has not been started');
    return join(this.dataDir, 'content.git');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(opts: ServerOptions): Promise<void> {
    // Synchronous, so that an exit at any moment finds the directory recorded (killSync).
    this.dataDir = mkdtempSync(join(tmpdir(), 'lectern-bench-'));
    this.port = await freePort();
    // stop() during the await above found no child to end: do not start one.
    if (this.stopping) throw new ServerStartError('stopped before it started');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of OWNED_ENV) delete env[key];
    Object.assign(env, {
      DATA_DIR: this.dataDir,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: this.adminToken,
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      ...opts.env,
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.log(s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => this.log(s));
    child.once('exit', (code, signal) => {
      if (!this.stopping) console.error(`  [server] exited unexpectedly (code ${code}, signal ${signal})`);
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new ServerStartError(`the server exited during start (code ${child.exitCode}, signal ${child.signalCode})\n${this.tail()}`);
      }
      if (Date.now() > deadline) throw new ServerStartError(`GET /readyz did not answer 200 within ${READY_TIMEOUT_MS / 1000}s\n${this.tail()}`);
      try {
        const res = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  }

  /** SIGTERM, then SIGKILL after a timeout; then the data directory goes. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
      if (timedOut) {
        console.error(`  [server] did not stop within ${STOP_TIMEOUT_MS / 1000}s of SIGTERM; sending SIGKILL`);
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    this.child = null;
    if (this.suppressed) console.error(`  [server] ${this.suppressed} more log line(s) not shown`);
    if (this.dataDir) {
      await rm(this.dataDir, { recursive: true, force: true });
      this.dataDir = null;
    }
  }

  /** Last resort from a process 'exit' handler: nothing asynchronous is possible there. */
  killSync(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private log(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      this.recent.push(line);
      if (this.recent.length > 50) this.recent.shift();
      if (this.echoed < ECHO_LINES) {
        this.echoed++;
        console.error(`  [server] ${line.length > 400 ? `${line.slice(0, 400)}…` : line}`);
      } else {
        this.suppressed++;
      }
    }
  }

  private tail(): string {
    return this.recent.length ? `last server output:\n${this.recent.join('\n')}` : '(the server printed nothing)';
  }
}
