import {
  KernelDisconnectedError,
  RunAbortedError,
  type ExecuteOptions,
  type ExecuteResult,
} from '../kernel-gateway.js';
import type { PyodideProcess } from './pyodide-process.js';

interface QueuedRun {
  opts: ExecuteOptions;
  resolve: (result: ExecuteResult) => void;
  reject: (err: Error) => void;
}

/**
 * One kernel: a PyodideProcess and the runs waiting for it. Runs are sequential, as on a
 * Jupyter kernel's shell channel: an execute that arrives while another runs is queued,
 * not refused. A restart swaps in a new process; when the process dies on its own the
 * kernel is gone (`onGone`) and every run, running or queued, rejects.
 */
export class PyodideKernel {
  private queue: QueuedRun[] = [];
  private running = false;
  private process: PyodideProcess | null = null;
  /** Settles once the current process is loaded (after a restart, the new one). */
  private loading: Promise<void> = Promise.resolve();
  private gone: Error | null = null;
  /** Bumped by each restart: a run taken off the queue before it must not reach the new process. */
  private epoch = 0;

  constructor(
    readonly id: string,
    readonly kernelspec: string,
    process: PyodideProcess,
    private readonly onGone: (kernel: PyodideKernel) => void,
  ) {
    this.attach(process);
  }

  get isGone(): boolean {
    return this.gone !== null;
  }

  execute(opts: ExecuteOptions): Promise<ExecuteResult> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      this.queue.push({ opts, resolve, reject });
      void this.next();
    });
  }

  interrupt(): void {
    this.process?.interrupt();
  }

  /**
   * Kills the process and starts afresh on `replacement` (a loaded spare or a new one);
   * the run in progress and the queued ones reject with RunAbortedError. Rejects, and
   * the kernel is gone, if the replacement fails to load.
   */
  async restart(replacement: PyodideProcess): Promise<void> {
    const old = this.process;
    this.epoch++;
    this.abortQueue(new RunAbortedError('the kernel was restarted'));
    // Attached before the old one is gone, so that executes sent meanwhile wait for it.
    this.attach(replacement);
    if (old) await old.kill(new RunAbortedError('the kernel was restarted'));
    await this.loading;
  }

  /** Kills the process; every run rejects with RunAbortedError. */
  async shutdown(): Promise<void> {
    const err = new RunAbortedError('the kernel was shut down');
    this.abortQueue(err);
    const proc = this.process;
    this.process = null;
    this.markGone(err);
    await proc?.kill(err);
  }

  private attach(proc: PyodideProcess): void {
    this.process = proc;
    proc.onExit((err) => {
      if (this.process !== proc) return; // replaced by a restart, or shut down
      this.process = null;
      const lost = new KernelDisconnectedError(`kernel ${this.id} died: ${err.message}`);
      this.abortQueue(lost);
      this.markGone(lost);
    });
    this.loading = proc.ready.catch((err: Error) => {
      if (this.process !== proc) return;
      this.process = null;
      this.abortQueue(err);
      this.markGone(err);
      throw err;
    });
    this.loading.catch(() => {});
  }

  private async next(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const run = this.queue.shift()!;
    const epoch = this.epoch;
    try {
      await this.loading;
      const proc = this.process;
      if (epoch !== this.epoch) throw new RunAbortedError('the kernel was restarted');
      if (!proc) throw this.gone ?? new RunAbortedError('the kernel is not running');
      run.resolve(await proc.execute(run.opts.code, run.opts.onOutput));
    } catch (err) {
      run.reject(err as Error);
    } finally {
      this.running = false;
      void this.next();
    }
  }

  private abortQueue(err: Error): void {
    for (const run of this.queue.splice(0)) run.reject(err);
  }

  private markGone(err: Error): void {
    if (this.gone) return;
    this.gone = err;
    this.onGone(this);
  }
}
