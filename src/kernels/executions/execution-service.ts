import { createHash, randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { KernelConfig } from '../../config.js';
import type { Db } from '../../db/client.js';
import { executions } from '../../db/schema.js';
import { CmsError, Errors } from '../../errors.js';
import type { Execution } from '../../generated/schema-types.js';
import type { EnvironmentRegistry } from '../environments.js';
import {
  GatewayUnavailableError, KernelDisconnectedError, KernelNotFoundError, RunAbortedError, type KernelGateway,
} from '../kernel-gateway.js';
import { cleanOutput } from '../../blocks/sanitize-outputs.js';
import { OutputBudget } from '../output-budget.js';
import { KernelSessions, type KernelSession } from './kernel-sessions.js';
import { LiveExecution, type ExecutionEvent, type ExecutionStatus } from './live-execution.js';
import { SlidingWindowLimiter } from './rate-limiter.js';

export interface Learner {
  tokenId: number;
  name: string;
  /** Admins may see and stop anyone's runs. */
  admin: boolean;
}

export interface RunRequest {
  learner: Learner;
  pageId: number;
  blockId: string;
  /** The lesson environment (the block's, else the page's, else `default`). */
  environment: string;
  /** The block's kernel (kernelspec), used when the environment names none. */
  kernel: string;
  code: string;
  /** The learner sent their own edit of the block's code. */
  edited: boolean;
}

/** A run still going after this long gets its `running` record (see recordRunning). */
const RECORD_RUNNING_AFTER_MS = 200;

/** An interrupt is asked again this often, this many times, while the run goes on. */
const INTERRUPT_RETRY_MS = 1_000;
const INTERRUPT_RETRIES = 5;

/** Finished runs stay in memory this long, for event streams that reconnect. */
const KEEP_FINISHED_MS = 10 * 60_000;

/**
 * Runs jupyter blocks for learners (DESIGN.md §6): picks the learner's kernel for the
 * lesson environment, enforces the limits, streams outputs (cleaned and capped) to
 * listeners, stops runs at the time limit (interrupt, then restart), and records every
 * run for operators.
 */
export class ExecutionService {
  readonly sessions: KernelSessions;
  private readonly live = new Map<string, LiveExecution>();
  /** tokenId → the execution of theirs that is running. */
  private readonly running = new Map<number, string>();
  private readonly limiter: SlidingWindowLimiter;
  private readonly eventListeners = new Set<(exec: LiveExecution, event: ExecutionEvent) => void>();
  private closed = false;

  constructor(
    private readonly gateway: KernelGateway,
    private readonly environments: EnvironmentRegistry,
    private readonly config: KernelConfig,
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
    private readonly log: (err: unknown, msg: string) => void = () => {},
    /** Write a run's record before announcing it (several processes share runs through Redis). */
    private readonly recordAtOnce = false,
  ) {
    this.sessions = new KernelSessions(gateway, { kernelsPerLearner: config.kernelsPerLearner, maxKernels: config.maxKernels, idleTtlMs: config.kernelIdleTtlMs }, now, (err) => log(err, 'kernel shutdown failed'));
    this.limiter = new SlidingWindowLimiter(config.runsPerMinute, 60_000);
  }

  /** Hears every output and final status of every run this process makes (to publish them to other processes). */
  onEvent(fn: (exec: LiveExecution, event: ExecutionEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  get gatewayDescription(): string {
    return this.gateway.description;
  }

  start(): void {
    this.sessions.startCulling(Math.max(1_000, Math.min(60_000, this.config.kernelIdleTtlMs / 4)));
  }

  /**
   * Starts a run and returns it once it is running (the learner's kernel acquired); the
   * outputs follow on the returned execution. Limits are checked first, so a refused run
   * costs nothing.
   */
  async run(req: RunRequest): Promise<LiveExecution> {
    const bytes = Buffer.byteLength(req.code, 'utf8');
    if (bytes > this.config.maxCodeBytes) {
      throw Errors.codeTooLarge([bytes, this.config.maxCodeBytes], { errors: [{ path: '/code', message: `is ${bytes} bytes; the limit is ${this.config.maxCodeBytes}` }] });
    }
    const environment = this.environments.get(req.environment);
    if (!environment) throw Errors.unknownEnvironment([req.environment, this.environments.names().join(', ')]);
    const busy = this.running.get(req.learner.tokenId);
    if (busy) throw Errors.runInProgress([busy], { extra: { execution: busy } });
    const wait = this.limiter.take(String(req.learner.tokenId));
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw Errors.rateLimited([this.config.runsPerMinute, seconds], { headers: { 'retry-after': String(seconds) } });
    }

    const id = randomUUID();
    const exec = new LiveExecution({ id, pageId: req.pageId, blockId: req.blockId, tokenId: req.learner.tokenId, environment: req.environment, createdAt: this.now() });
    this.running.set(req.learner.tokenId, id);
    const kernelspec = environment.kernelspec || req.kernel;
    let session: KernelSession;
    try {
      session = await this.sessions.acquire(req.learner.tokenId, req.environment, kernelspec, {
        KERNEL_USERNAME: req.learner.name,
        ...(environment.env ?? {}),
      });
    } catch (err) {
      this.running.delete(req.learner.tokenId);
      throw this.asClientError(err);
    }
    exec.sessionId = session.id;
    exec.startedAt = this.now();
    session.busy = true;
    this.live.set(id, exec);
    if (this.eventListeners.size) exec.follow(0, (e) => { for (const fn of this.eventListeners) fn(exec, e); });
    const row: typeof executions.$inferInsert = {
      id, pageId: req.pageId, blockId: req.blockId, tokenId: req.learner.tokenId, learner: req.learner.name,
      environment: req.environment, kernelspec, gateway: this.gateway.kind, sessionId: session.id,
      codeHash: createHash('sha256').update(req.code).digest('hex'), codeBytes: bytes, edited: req.edited,
      status: 'running', createdAt: exec.facts.createdAt, startedAt: exec.startedAt,
    };
    const running = this.recordRunning(row);
    void this.execute(exec, session, req, kernelspec, row, running);
    if (this.recordAtOnce) await running.settle();
    return exec;
  }

  /**
   * Writes the `running` record of a run that is still going after RECORD_RUNNING_AFTER_MS.
   * Most runs end sooner and get one write, the final record, instead of two: the
   * learner's Run does not wait for the database twice. `settle()` cancels the pending
   * write or waits for the one in flight, so the final record always lands last.
   */
  private recordRunning(row: typeof executions.$inferInsert): { settle: () => Promise<void> } {
    if (this.recordAtOnce) {
      // Other processes (REDIS_URL) must find the run as soon as its 202 is out.
      const write = this.db.insert(executions).values(row).onConflictDoNothing()
        .then(() => {}, (err) => this.log(err, 'recording a running execution failed'));
      return { settle: () => write };
    }
    let write: Promise<void> | null = null;
    const timer = setTimeout(() => {
      write = this.db.insert(executions).values(row).onConflictDoNothing()
        .then(() => {}, (err) => this.log(err, 'recording a running execution failed'));
    }, RECORD_RUNNING_AFTER_MS);
    timer.unref();
    return { settle: async () => { clearTimeout(timer); await write; } };
  }

  private async execute(exec: LiveExecution, session: KernelSession, req: RunRequest, kernelspec: string,
    row: typeof executions.$inferInsert, running: { settle: () => Promise<void> }): Promise<void> {
    const budget = new OutputBudget(this.config.maxOutputBytes);
    const onOutput = (raw: Parameters<typeof cleanOutput>[0]) => {
      if (exec.finished) return;
      for (const o of budget.take(cleanOutput(raw))) exec.addOutput(o);
      exec.truncated = budget.truncated;
      exec.outputBytes = budget.bytes;
    };
    const timers = this.armTimeout(exec, session);
    let status: ExecutionStatus;
    let message: string | null = null;
    try {
      let result;
      try {
        result = await this.gateway.execute(session.kernelId, { code: req.code, onOutput });
      } catch (err) {
        if (!(err instanceof KernelNotFoundError) || exec.outputs.length) throw err;
        // The gateway forgot the kernel (culled, restarted): start a new one and run there.
        await this.sessions.drop(session, false);
        session = await this.sessions.acquire(req.learner.tokenId, req.environment, kernelspec, { KERNEL_USERNAME: req.learner.name, ...(this.environments.get(req.environment)?.env ?? {}) });
        session.busy = true;
        exec.sessionId = session.id;
        result = await this.gateway.execute(session.kernelId, { code: req.code, onOutput });
      }
      exec.executionCount = result.executionCount;
      status = exec.stopping === 'timeout' ? 'timeout' : exec.stopping === 'interrupt' && result.status !== 'ok' ? 'interrupted' : result.status === 'ok' ? 'ok' : 'error';
    } catch (err) {
      if (err instanceof RunAbortedError) {
        status = exec.stopping === 'timeout' ? 'timeout' : exec.stopping === 'interrupt' ? 'interrupted' : 'failed';
        message = status === 'failed' ? 'the kernel was restarted while the code ran; its state is lost' : null;
      } else {
        status = 'failed';
        message = err instanceof GatewayUnavailableError || err instanceof KernelDisconnectedError || err instanceof KernelNotFoundError
          ? `${this.gateway.description}: ${err.message}` : 'the run failed';
        if (!(err instanceof GatewayUnavailableError)) this.log(err, 'execution failed');
        // A kernel whose connection broke is not trusted again: the next run gets a new one.
        if (!(err instanceof GatewayUnavailableError)) await this.sessions.drop(session, true);
      }
    } finally {
      for (const t of timers) clearTimeout(t);
    }
    if (status === 'timeout') message = `stopped after ${formatMs(this.config.executionTimeoutMs)}, the execution time limit`;
    if (status === 'interrupted') message = 'interrupted on request';
    session.busy = false;
    session.lastUsedAt = this.now();
    // The record first: whoever hears that the run ended can read it from the database.
    const finishedAt = this.now();
    await running.settle();
    await this.record(exec, row, status, message, finishedAt).catch((err) => this.log(err, 'recording an execution failed'));
    exec.finish(status, finishedAt, message);
    this.running.delete(req.learner.tokenId);
    setTimeout(() => this.live.delete(exec.facts.id), KEEP_FINISHED_MS).unref();
  }

  /** At the time limit: interrupt; if the kernel does not stop within the grace, restart it. */
  private armTimeout(exec: LiveExecution, session: KernelSession): NodeJS.Timeout[] {
    const timers: NodeJS.Timeout[] = [];
    timers.push(setTimeout(() => {
      if (exec.finished) return;
      exec.stopping = 'timeout';
      this.gateway.interrupt(session.kernelId).catch((err) => this.log(err, 'interrupt at the time limit failed'));
      timers.push(setTimeout(() => {
        if (exec.finished) return;
        this.gateway.restart(session.kernelId).catch((err) => this.log(err, 'restart at the time limit failed'));
      }, this.config.interruptGraceMs));
    }, this.config.executionTimeoutMs));
    return timers;
  }

  private async record(exec: LiveExecution, row: typeof executions.$inferInsert, status: ExecutionStatus, message: string | null, finishedAt: Date): Promise<void> {
    const end = {
      sessionId: exec.sessionId, status, message, executionCount: exec.executionCount, outputs: exec.outputs,
      outputBytes: exec.outputBytes, truncated: exec.truncated,
      finishedAt, durationMs: exec.startedAt ? finishedAt.getTime() - exec.startedAt.getTime() : null,
    };
    await this.db.insert(executions).values({ ...row, ...end }).onConflictDoUpdate({ target: executions.id, set: end });
  }

  /** A run this process holds in memory (running, or finished within the last minutes). */
  liveRun(id: string): LiveExecution | undefined {
    return this.live.get(id);
  }

  /** A run as the API shows it: from memory, else from the record. Only its learner (or an admin) sees it. */
  async find(id: string, who: Learner): Promise<{ live: LiveExecution | null; execution: Execution }> {
    const exec = this.live.get(id);
    if (exec) {
      if (exec.facts.tokenId !== who.tokenId && !who.admin) throw Errors.executionNotFound([id]);
      return { live: exec, execution: exec.toJSON() };
    }
    const [row] = /^[0-9a-f-]{36}$/.test(id) ? await this.db.select().from(executions).where(eq(executions.id, id)).limit(1) : [];
    if (!row || (row.tokenId !== who.tokenId && !who.admin)) throw Errors.executionNotFound([id]);
    return { live: null, execution: executionFromRow(row) };
  }

  /** A learner's runs, newest first: those still in this process's memory, then the records. */
  async list(who: Learner, limit: number, offset: number): Promise<{ total: number; items: Execution[] }> {
    const mine = [...this.live.values()].filter((e) => e.facts.tokenId === who.tokenId);
    const [rows, counted] = await Promise.all([
      this.db.select().from(executions).where(eq(executions.tokenId, who.tokenId)).orderBy(desc(executions.createdAt)).limit(offset + limit + mine.length),
      this.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(executions).where(eq(executions.tokenId, who.tokenId)),
    ]);
    const recorded = new Set(rows.map((r) => r.id));
    const unrecorded = mine.filter((e) => !recorded.has(e.facts.id));
    const byId = new Map<string, Execution>(rows.map((r) => [r.id, executionFromRow(r)]));
    for (const e of mine) byId.set(e.facts.id, e.toJSON());
    const items = [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
    return { total: (counted[0]?.n ?? 0) + unrecorded.length, items: items.slice(offset, offset + limit) };
  }

  /** Stops a run: the kernel gets an interrupt (KeyboardInterrupt); the run ends `interrupted`. */
  async interrupt(id: string, who: Learner): Promise<LiveExecution> {
    const exec = this.live.get(id);
    if (!exec || (exec.facts.tokenId !== who.tokenId && !who.admin)) throw Errors.executionNotFound([id]);
    if (exec.finished) return exec;
    const session = exec.sessionId ? this.sessions.byId(exec.sessionId) : undefined;
    exec.stopping = 'interrupt';
    if (session) {
      try {
        await this.gateway.interrupt(session.kernelId);
      } catch (err) {
        throw this.asClientError(err);
      }
      this.repeatInterrupt(exec, session.kernelId, INTERRUPT_RETRIES);
    }
    return exec;
  }

  /**
   * A SIGINT that reaches the kernel before it starts running the code (Stop pressed right
   * after Run) is lost: ask again, a few times, until the run ends. The time limit still
   * applies if the code ignores them all.
   */
  private repeatInterrupt(exec: LiveExecution, kernelId: string, left: number): void {
    if (left <= 0) return;
    setTimeout(() => {
      if (exec.finished || exec.stopping !== 'interrupt' || this.closed) return;
      this.gateway.interrupt(kernelId).then(
        () => this.repeatInterrupt(exec, kernelId, left - 1),
        (err) => this.log(err, 'repeating an interrupt failed'),
      );
    }, INTERRUPT_RETRY_MS).unref();
  }

  /** Restarts one of the learner's kernels (its state is lost; a run in progress ends). */
  async restartKernel(sessionId: string, who: Learner): Promise<KernelSession> {
    const session = this.sessions.byId(sessionId);
    if (!session || (session.tokenId !== who.tokenId && !who.admin)) throw Errors.kernelNotFound([sessionId]);
    try {
      await this.gateway.restart(session.kernelId);
    } catch (err) {
      if (err instanceof KernelNotFoundError) {
        await this.sessions.drop(session, false);
        throw Errors.kernelNotFound([sessionId]);
      }
      throw this.asClientError(err);
    }
    session.lastUsedAt = this.now();
    return session;
  }

  /** Gateway failures as errors clients understand (503 naming the gateway); limits pass through. */
  private asClientError(err: unknown): unknown {
    if (err instanceof CmsError) return err;
    if (err instanceof GatewayUnavailableError) return Errors.gatewayUnavailable([err.message]);
    if (err instanceof KernelDisconnectedError || err instanceof KernelNotFoundError) return Errors.gatewayUnavailable([`${this.gateway.description}: ${err.message}`]);
    return err;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sessions.close();
    await this.gateway.close();
  }
}

function executionFromRow(row: typeof executions.$inferSelect): Execution {
  return {
    id: row.id, status: row.status as ExecutionStatus, page: row.pageId, block: row.blockId, environment: row.environment,
    kernel: row.sessionId, execution_count: row.executionCount, outputs: (row.outputs ?? []) as Execution['outputs'],
    truncated: row.truncated, message: row.message, created_at: row.createdAt.toISOString(),
    started_at: row.startedAt?.toISOString() ?? null, finished_at: row.finishedAt?.toISOString() ?? null, duration_ms: row.durationMs,
  };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
