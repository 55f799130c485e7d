import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GatewayUnavailableError,
  KernelDisconnectedError,
  RunAbortedError,
  type ExecuteResult,
  type NbOutput,
} from '../kernel-gateway.js';
import type { FromChild, ToChild } from './child-messages.js';

export const GATEWAY_DESCRIPTION = 'pyodide gateway (embedded)';

/**
 * The child entry is plain JavaScript, run as is: from src/ under tsx, and from src/ too
 * when the server runs from dist/ (tsc does not copy .mjs files; dist/ and src/ sit at the
 * same depth, as for BLOCKS_DIR in app.ts). A copy beside the compiled file wins.
 */
function childEntry(): string {
  const candidates = [
    new URL('./pyodide-child.mjs', import.meta.url),
    new URL('../../../src/kernels/pyodide/pyodide-child.mjs', import.meta.url),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new GatewayUnavailableError(GATEWAY_DESCRIPTION, `the kernel entry is missing (looked for ${candidates.join(', ')})`);
  return found;
}

interface Run {
  id: string;
  onOutput: (output: NbOutput) => void;
  resolve: (result: ExecuteResult) => void;
  reject: (err: Error) => void;
  /** What onOutput threw, if it did: the run rejects with it once the kernel is done. */
  callbackError?: Error;
}

/** Keeps the end of what the child wrote to stderr, for load failures and crashes. */
const STDERR_TAIL_CHARS = 2_000;

/**
 * One kernel process: spawns pyodide-child.mjs with an empty environment, says when
 * Pyodide is loaded, runs one cell at a time and reports how it ends. PyodideKernel
 * queues the runs; the gateway keeps unused processes as warm spares.
 */
export class PyodideProcess {
  /** Resolves once Pyodide is loaded; rejects with GatewayUnavailableError if it cannot be. */
  readonly ready: Promise<void>;
  /** Resolves once the process is gone and its run, if any, has been settled. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly loadTimer: NodeJS.Timeout;
  private markReady!: () => void;
  private markLoadFailed!: (err: Error) => void;
  private markExited!: () => void;
  private run: Run | null = null;
  private loaded = false;
  private alive = true;
  /** Set before a kill we asked for: the run in progress ends with it. */
  private abortError: Error | null = null;
  private fatalReason: string | null = null;
  private stderrTail = '';
  private readonly exitListeners: Array<(err: Error) => void> = [];

  constructor(loadTimeoutMs: number) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markLoadFailed = reject;
    });
    // A spare may fail before anyone waits for it; whoever takes it sees the rejection.
    this.ready.catch(() => {});
    this.exited = new Promise<void>((resolve) => (this.markExited = resolve));

    let entry: string | null = null;
    try {
      entry = childEntry();
    } catch (err) {
      this.failLoad((err as GatewayUnavailableError).reason);
    }
    // The server's secrets stay in the server: the kernel gets no environment at all.
    this.child = spawn(process.execPath, entry ? [entry] : ['-e', 'process.exit(1)'], {
      env: {},
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.loadTimer = setTimeout(() => {
      this.failLoad(`Pyodide did not load within ${loadTimeoutMs} ms`);
      void this.kill();
    }, loadTimeoutMs);

    this.child.on('message', (msg: FromChild) => this.onMessage(msg));
    const describe = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `was killed (${signal})` : `exited with code ${code}`);
    // 'close' comes once the IPC channel is drained too, so a last 'fatal' is read first;
    // the timer covers a grandchild that keeps stderr open.
    this.child.on('close', (code, signal) => this.onEnd(describe(code, signal)));
    this.child.on('exit', (code, signal) => setTimeout(() => this.onEnd(describe(code, signal)), 1_000).unref());
    this.child.on('error', (err) => {
      // spawn itself failed (no binary, too many processes…): there will be no 'exit'.
      if (this.child.pid === undefined) this.onEnd(`could not start (${err.message})`);
    });
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Called once when the process ends, for whatever reason, with the error its run got. */
  onExit(listener: (err: Error) => void): void {
    this.exitListeners.push(listener);
  }

  /** Runs one cell; the caller waits for it to settle before the next. */
  execute(code: string, onOutput: (output: NbOutput) => void): Promise<ExecuteResult> {
    if (this.run) return Promise.reject(new Error('the pyodide kernel process is already running a cell'));
    if (!this.alive) return Promise.reject(this.abortError ?? new KernelDisconnectedError('the pyodide kernel process has exited'));
    return new Promise((resolve, reject) => {
      const id = randomUUID();
      this.run = { id, onOutput, resolve, reject };
      this.send({ type: 'execute', runId: id, code });
    });
  }

  interrupt(): void {
    if (this.run) this.send({ type: 'interrupt' });
  }

  /** Kills the process; a run in progress rejects with `abortError`. Resolves once it is gone. */
  kill(abortError: Error = new RunAbortedError('the kernel was shut down')): Promise<void> {
    if (this.alive) {
      this.abortError ??= abortError;
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  private onMessage(msg: FromChild): void {
    const run = this.run?.id === (msg as { runId?: string }).runId ? this.run : null;
    switch (msg.type) {
      case 'ready':
        clearTimeout(this.loadTimer);
        this.loaded = true;
        this.markReady();
        break;
      case 'load-failed':
        this.failLoad(`Pyodide failed to load: ${firstLine(msg.reason)}`);
        break;
      case 'output':
        try {
          run?.onOutput(msg.output);
        } catch (err) {
          // Thrown in an IPC handler it would take the server down; the run reports it.
          if (run) run.callbackError ??= err as Error;
        }
        break;
      case 'done':
        if (!run) break;
        this.run = null;
        if (run.callbackError) run.reject(run.callbackError);
        else run.resolve({ status: msg.status, executionCount: msg.executionCount });
        break;
      case 'fatal':
        this.fatalReason = firstLine(msg.reason);
        break;
    }
  }

  private failLoad(reason: string): void {
    clearTimeout(this.loadTimer);
    this.markLoadFailed(new GatewayUnavailableError(GATEWAY_DESCRIPTION, reason));
  }

  private onEnd(how: string): void {
    if (!this.alive) return;
    this.alive = false;
    const why = this.fatalReason ?? lastLine(this.stderrTail);
    const detail = why ? `: ${why}` : '';
    if (!this.loaded) this.failLoad(`the kernel process ${how} while loading Pyodide${detail}`);
    const err = this.abortError ?? new KernelDisconnectedError(`the pyodide kernel process ${how}${detail}`);
    const run = this.run;
    this.run = null;
    run?.reject(err);
    for (const listener of this.exitListeners) listener(err);
    this.markExited();
  }

  private send(msg: ToChild): void {
    // A closed channel means the process is exiting; its 'close' settles the run.
    if (this.child.connected) this.child.send(msg, () => {});
  }
}

const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';
const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
