import { randomBytes } from 'node:crypto';
import type { Execution } from '../../generated/schema-types.js';
import type { NbOutput } from '../kernel-gateway.js';

export type ExecutionStatus = Execution['status'];

/** One Server-Sent Event of a run: each output, then one final status. */
export interface ExecutionEvent {
  /** 1, 2, 3…: the SSE id, for Last-Event-ID. */
  seq: number;
  event: 'output' | 'status';
  data: NbOutput | Record<string, unknown>;
}

export interface ExecutionFacts {
  id: string;
  pageId: number;
  blockId: string;
  tokenId: number;
  environment: string;
  createdAt: Date;
}

/**
 * A run in this process: its outputs so far as an event log that listeners follow and
 * late or reconnecting listeners replay from any point.
 */
export class LiveExecution {
  status: ExecutionStatus = 'running';
  readonly outputs: NbOutput[] = [];
  readonly events: ExecutionEvent[] = [];
  sessionId: string | null = null;
  executionCount: number | null = null;
  truncated = false;
  outputBytes = 0;
  message: string | null = null;
  startedAt: Date | null = null;
  finishedAt: Date | null = null;
  /**
   * Lets the event stream be opened without a bearer token (a browser's EventSource
   * cannot send one): it shows this run's outputs and nothing else.
   */
  readonly streamKey = randomBytes(16).toString('base64url');
  /** Why the run is being stopped, when it is: decides the final status. */
  stopping: 'timeout' | 'interrupt' | null = null;
  private readonly listeners = new Set<(e: ExecutionEvent) => void>();
  private resolveDone!: () => void;
  readonly done = new Promise<void>((r) => { this.resolveDone = r; });

  constructor(readonly facts: ExecutionFacts) {}

  get finished(): boolean {
    return this.finishedAt !== null;
  }

  addOutput(o: NbOutput): void {
    this.outputs.push(o);
    this.emit('output', o);
  }

  finish(status: ExecutionStatus, at: Date, message: string | null): void {
    if (this.finished) return;
    this.status = status;
    this.message = message;
    this.finishedAt = at;
    this.emit('status', { status, execution_count: this.executionCount, duration_ms: this.durationMs, truncated: this.truncated, message });
    this.listeners.clear();
    this.resolveDone();
  }

  get durationMs(): number | null {
    return this.startedAt && this.finishedAt ? this.finishedAt.getTime() - this.startedAt.getTime() : null;
  }

  /** Calls `fn` with every event after `afterSeq`, then with each new one; returns an unsubscribe. */
  follow(afterSeq: number, fn: (e: ExecutionEvent) => void): () => void {
    for (const e of this.events) if (e.seq > afterSeq) fn(e);
    if (this.finished) return () => {};
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  private emit(event: ExecutionEvent['event'], data: ExecutionEvent['data']) {
    const e: ExecutionEvent = { seq: this.events.length + 1, event, data };
    this.events.push(e);
    for (const fn of this.listeners) fn(e);
  }

  toJSON(): Execution {
    return {
      id: this.facts.id,
      status: this.status,
      page: this.facts.pageId,
      block: this.facts.blockId,
      environment: this.facts.environment,
      kernel: this.sessionId,
      execution_count: this.executionCount,
      outputs: this.outputs,
      truncated: this.truncated,
      message: this.message,
      created_at: this.facts.createdAt.toISOString(),
      started_at: this.startedAt?.toISOString() ?? null,
      finished_at: this.finishedAt?.toISOString() ?? null,
      duration_ms: this.durationMs,
    };
  }
}
