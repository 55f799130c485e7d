import { randomUUID } from 'node:crypto';
import {
  GatewayUnavailableError,
  KernelNotFoundError,
  type ExecuteOptions,
  type ExecuteResult,
  type KernelGateway,
  type KernelHandle,
  type KernelSpecInfo,
  type StartKernelOptions,
} from '../kernel-gateway.js';
import { PyodideKernel } from './pyodide-kernel.js';
import { GATEWAY_DESCRIPTION, PyodideProcess } from './pyodide-process.js';

export interface PyodideGatewayOptions {
  /**
   * Kernel processes kept with Pyodide loaded, so that startKernel and restart take one at
   * once instead of waiting ~2 s for a load (config: PYODIDE_SPARES). 0 disables. Default 1.
   */
  spares?: number;
  /** How long a kernel process may take to load Pyodide before it fails with GatewayUnavailableError. Default 30 s. */
  loadTimeoutMs?: number;
}

const KERNELSPEC: KernelSpecInfo = { name: 'python3', displayName: 'Python 3 (Pyodide)', language: 'python' };

/**
 * The embedded gateway (DESIGN.md §6): CPython in WebAssembly, one child process per
 * kernel with an empty environment, standard library only, offline. A convenience for
 * local authoring, not an isolation boundary. See README.md in this folder for the
 * process layout.
 */
export class PyodideGateway implements KernelGateway {
  readonly kind = 'pyodide';
  readonly description = GATEWAY_DESCRIPTION;
  private readonly spareCount: number;
  private readonly loadTimeoutMs: number;
  private readonly kernels = new Map<string, PyodideKernel>();
  private spares: PyodideProcess[] = [];
  /** Taken by a startKernel that is waiting for it to load. */
  private readonly starting = new Set<PyodideProcess>();
  private closed = false;

  constructor(opts: PyodideGatewayOptions = {}) {
    this.spareCount = Math.max(0, Math.floor(opts.spares ?? 1));
    this.loadTimeoutMs = opts.loadTimeoutMs ?? 30_000;
    this.fillSpares();
  }

  async listKernelspecs(): Promise<KernelSpecInfo[]> {
    return [{ ...KERNELSPEC }];
  }

  /**
   * Resolves once the spares are loaded (at once with `spares: 0`); rejects with
   * GatewayUnavailableError if Pyodide cannot load. For a server that wants to say it is
   * ready, and for tests.
   */
  async warm(): Promise<void> {
    this.fillSpares();
    await Promise.all(this.spares.map((p) => p.ready));
  }

  async startKernel(opts: StartKernelOptions): Promise<KernelHandle> {
    this.assertOpen();
    // An unknown kernelspec is a lesson environment this gateway cannot serve: 503, saying why.
    if (opts.kernelspec !== KERNELSPEC.name) {
      throw new GatewayUnavailableError(this.description, `it has no kernelspec "${opts.kernelspec}" (it offers "${KERNELSPEC.name}")`);
    }
    const proc = this.takeProcess();
    this.starting.add(proc);
    try {
      await proc.ready;
    } catch (err) {
      this.assertOpen(); // killed by close(): say that rather than how it died
      throw err;
    } finally {
      this.starting.delete(proc);
    }
    if (this.closed) {
      await proc.kill();
      this.assertOpen();
    }
    const kernel = new PyodideKernel(randomUUID(), KERNELSPEC.name, proc, (k) => {
      if (this.kernels.get(k.id) === k) this.kernels.delete(k.id);
    });
    this.kernels.set(kernel.id, kernel);
    return { id: kernel.id, kernelspec: kernel.kernelspec };
  }

  execute(kernelId: string, opts: ExecuteOptions): Promise<ExecuteResult> {
    try {
      return this.kernel(kernelId).execute(opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async interrupt(kernelId: string): Promise<void> {
    this.kernel(kernelId).interrupt();
  }

  async restart(kernelId: string): Promise<void> {
    const kernel = this.kernel(kernelId);
    this.assertOpen();
    await kernel.restart(this.takeProcess());
  }

  async shutdown(kernelId: string): Promise<void> {
    await this.kernel(kernelId).shutdown();
  }

  async close(): Promise<void> {
    this.closed = true;
    const procs = [...this.spares.splice(0), ...this.starting];
    const kernels = [...this.kernels.values()];
    this.kernels.clear();
    await Promise.all([...procs.map((p) => p.kill()), ...kernels.map((k) => k.shutdown())]);
  }

  private kernel(id: string): PyodideKernel {
    const kernel = this.kernels.get(id);
    if (!kernel || kernel.isGone) throw new KernelNotFoundError(id);
    return kernel;
  }

  /** A loaded spare if there is one, else the spare that will be ready first, else a new process. */
  private takeProcess(): PyodideProcess {
    const i = Math.max(this.spares.findIndex((p) => p.isLoaded), 0);
    const proc = this.spares.splice(i, 1)[0] ?? this.spawn();
    this.fillSpares();
    return proc;
  }

  private fillSpares(): void {
    while (!this.closed && this.spares.length < this.spareCount) {
      const proc = this.spawn();
      this.spares.push(proc);
      // A spare that fails or dies is dropped, not replaced: a broken install must not
      // respawn in a loop. The next startKernel tries again.
      const drop = () => {
        this.spares = this.spares.filter((p) => p !== proc);
      };
      proc.ready.catch(drop);
      proc.onExit(drop);
    }
  }

  private spawn(): PyodideProcess {
    return new PyodideProcess(this.loadTimeoutMs);
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayUnavailableError(this.description, 'it has been closed');
  }
}
