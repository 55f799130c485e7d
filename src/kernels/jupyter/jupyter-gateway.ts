import {
  GatewayUnavailableError, KernelNotFoundError, RunAbortedError,
  type ExecuteOptions, type ExecuteResult, type KernelGateway, type KernelHandle,
  type KernelSpecInfo, type StartKernelOptions,
} from '../kernel-gateway.js';
import { describeGateway, JupyterRestClient } from './jupyter-rest.js';
import { KernelConnection, KernelNotReadyError } from './kernel-connection.js';
import { silentLogger, type JupyterGatewayLogger } from './logger.js';

export type { JupyterGatewayLogger } from './logger.js';

export interface JupyterGatewayOptions {
  /** Base URL of Jupyter Server, Kernel Gateway or Enterprise Gateway (`http://10.0.0.5:8888`, a path prefix is kept). */
  url: string;
  /** Sent as `Authorization: token …`; null for a gateway without authentication. */
  token: string | null;
  /** Bound on REST calls (kernelspecs, interrupt) and on opening a kernel's WebSocket. Default 5000. */
  requestTimeoutMs?: number;
  /**
   * Bound on starting, restarting and shutting down a kernel, which wait for the kernel
   * process (or, on Enterprise Gateway, its container) to come up or go. Default 60000.
   */
  kernelTimeoutMs?: number;
  /**
   * Bound on a freshly started kernel opening its WebSocket and answering; past it the
   * kernel is shut down and another started, within kernelTimeoutMs (KernelNotReadyError
   * says why). Default 15000.
   */
  readyTimeoutMs?: number;
  /** Ping period of kernel WebSockets; a socket silent for a whole period counts as lost. Default 30000. */
  heartbeatMs?: number;
  logger?: JupyterGatewayLogger;
}

interface KernelState {
  id: string;
  /** The header username of our messages: the learner (KERNEL_USERNAME) when known. */
  username: string;
  /** Started by this adapter, so close() shuts it down. */
  ours: boolean;
  connection: KernelConnection | null;
  /** A connect, start or restart in progress; calls on the kernel wait for it. */
  pending: Promise<unknown> | null;
}

/** Kernels started for one startKernel call at most, when they do not become ready. */
const MAX_START_ATTEMPTS = 3;

const kernelPath = (id: string, action = '') => `api/kernels/${encodeURIComponent(id)}${action}`;

/**
 * The `jupyter` adapter (DESIGN.md §6): REST under /api/kernels and one WebSocket per
 * kernel. Runs on one kernel are queued and run in order. A broken WebSocket fails the
 * runs it carried (KernelDisconnectedError) and is dropped; the next call on that kernel
 * opens a new one, or fails with GatewayUnavailableError / KernelNotFoundError.
 */
export class JupyterGateway implements KernelGateway {
  readonly kind = 'jupyter';
  readonly description: string;
  private readonly rest: JupyterRestClient;
  private readonly requestTimeoutMs: number;
  private readonly kernelTimeoutMs: number;
  private readonly readyTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly logger: JupyterGatewayLogger;
  private readonly kernels = new Map<string, KernelState>();
  private closed = false;

  constructor(opts: JupyterGatewayOptions) {
    const base = new URL(opts.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`the jupyter gateway URL must be http(s), got ${base.protocol}`);
    }
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.description = describeGateway(base);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5_000;
    this.kernelTimeoutMs = opts.kernelTimeoutMs ?? 60_000;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.logger = opts.logger ?? silentLogger;
    this.rest = new JupyterRestClient(base, opts.token, this.requestTimeoutMs, this.description);
  }

  async listKernelspecs(): Promise<KernelSpecInfo[]> {
    this.assertOpen();
    type Specs = { kernelspecs?: Record<string, { name?: string; spec?: { display_name?: string; language?: string } }> };
    const body = await this.rest.request<Specs>('GET', 'api/kernelspecs');
    return Object.entries(body?.kernelspecs ?? {}).map(([key, ks]) => ({
      name: ks.name ?? key,
      displayName: ks.spec?.display_name ?? key,
      language: ks.spec?.language ?? '',
    }));
  }

  async startKernel(opts: StartKernelOptions): Promise<KernelHandle> {
    this.assertOpen();
    const deadline = performance.now() + this.kernelTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const id = await this.createKernel(opts, Math.max(1, Math.round(deadline - performance.now())));
      const state: KernelState = {
        id, username: opts.env.KERNEL_USERNAME ?? 'lectern', ours: true, connection: null, pending: null,
      };
      this.kernels.set(id, state);
      try {
        const left = Math.max(1, Math.round(deadline - performance.now()));
        await this.track(state, this.connect(state, Math.min(this.readyTimeoutMs, left), true));
        this.logger.info({ kernel: id, kernelspec: opts.kernelspec, environment: opts.environment, gateway: this.description, attempt }, 'kernel started');
        return { id, kernelspec: opts.kernelspec };
      } catch (err) {
        this.forget(state);
        await this.rest.request('DELETE', kernelPath(id), { kernelId: id }).catch(() => {});
        if (!(err instanceof KernelNotReadyError) || attempt >= MAX_START_ATTEMPTS || deadline - performance.now() < 1_000) throw err;
        this.logger.warn({ kernel: id, gateway: this.description, attempt, err: err.message }, 'kernel did not become ready; starting another');
      }
    }
  }

  private async createKernel(opts: StartKernelOptions, timeoutMs: number): Promise<string> {
    const model = await this.rest.request<{ id?: unknown }>('POST', 'api/kernels', {
      body: { name: opts.kernelspec, env: opts.env },
      timeoutMs,
    });
    if (typeof model?.id !== 'string') {
      throw new GatewayUnavailableError(this.description, 'POST /api/kernels answered without a kernel id');
    }
    return model.id;
  }

  async execute(kernelId: string, opts: ExecuteOptions): Promise<ExecuteResult> {
    this.assertOpen();
    const state = this.state(kernelId);
    const conn = await this.connection(state);
    return conn.execute(opts);
  }

  async interrupt(kernelId: string): Promise<void> {
    this.assertOpen();
    await this.rest.request('POST', kernelPath(kernelId, '/interrupt'), { body: {}, kernelId })
      .catch((err) => this.onKernelError(kernelId, err));
  }

  async restart(kernelId: string): Promise<void> {
    this.assertOpen();
    const state = this.state(kernelId);
    await settled(state.pending);
    this.drop(state, () => new RunAbortedError(`kernel ${kernelId} on ${this.description} was restarted`));
    await this.track(state, (async () => {
      await this.rest.request('POST', kernelPath(kernelId, '/restart'), { body: {}, kernelId, timeoutMs: this.kernelTimeoutMs })
        .catch((err) => this.whyRestartFailed(kernelId, err));
      await this.connect(state, this.kernelTimeoutMs, true);
    })()).catch((err) => this.onKernelError(kernelId, err));
    this.logger.info({ kernel: kernelId, gateway: this.description }, 'kernel restarted');
  }

  async shutdown(kernelId: string): Promise<void> {
    this.assertOpen();
    const state = this.state(kernelId);
    await settled(state.pending);
    this.forget(state, () => new RunAbortedError(`kernel ${kernelId} on ${this.description} was shut down`));
    await this.rest.request('DELETE', kernelPath(kernelId), { kernelId, timeoutMs: this.kernelTimeoutMs });
    this.logger.info({ kernel: kernelId, gateway: this.description }, 'kernel shut down');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const states = [...this.kernels.values()];
    for (const state of states) {
      this.forget(state, () => new RunAbortedError(`kernel ${state.id} on ${this.description} was shut down: the adapter is closing`));
    }
    // Best effort and bounded: a gateway that is down or slow must not hold up our exit.
    await Promise.allSettled(states.filter((s) => s.ours).map((s) =>
      this.rest.request('DELETE', kernelPath(s.id), { kernelId: s.id }).catch((err: Error) => {
        this.logger.warn({ kernel: s.id, err: err.message }, 'could not shut down kernel');
      })));
  }

  /** Jupyter Server answers 500, not 404, to restarting a kernel it does not know: ask it. */
  private async whyRestartFailed(kernelId: string, err: unknown): Promise<never> {
    if (err instanceof GatewayUnavailableError && /HTTP 500/.test(err.reason)) {
      await this.rest.request('GET', kernelPath(kernelId), { kernelId }).catch((probe) => {
        if (probe instanceof KernelNotFoundError) throw probe;
      });
    }
    throw err;
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayUnavailableError(this.description, 'the adapter was closed');
  }

  /** A kernel we did not start (the CMS restarted, say) is adopted on first use. */
  private state(kernelId: string): KernelState {
    let state = this.kernels.get(kernelId);
    if (!state) {
      state = { id: kernelId, username: 'lectern', ours: false, connection: null, pending: null };
      this.kernels.set(kernelId, state);
    }
    return state;
  }

  private async connection(state: KernelState): Promise<KernelConnection> {
    while (state.pending) await settled(state.pending);
    if (state.connection?.isOpen) return state.connection;
    return this.track(state, this.connect(state, this.requestTimeoutMs, false));
  }

  private track<T>(state: KernelState, work: Promise<T>): Promise<T> {
    state.pending = work;
    const clear = () => { if (state.pending === work) state.pending = null; };
    work.then(clear, clear);
    return work;
  }

  /** Opens the kernel's WebSocket; after a start or restart, also waits for the kernel to answer. */
  private async connect(state: KernelState, timeoutMs: number, waitReady: boolean): Promise<KernelConnection> {
    const url = this.rest.url(kernelPath(state.id, '/channels'));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let conn: KernelConnection;
    try {
      conn = await KernelConnection.open({
        kernelId: state.id,
        url,
        headers: this.rest.headers,
        username: state.username,
        description: this.description,
        logger: this.logger,
        heartbeatMs: this.heartbeatMs,
        onClose: (c) => {
          if (state.connection === c) state.connection = null;
        },
      }, timeoutMs);
    } catch (err) {
      this.onKernelError(state.id, err);
    }
    this.logger.debug({ kernel: state.id, session: conn.session }, 'kernel WebSocket open');
    if (this.closed || this.kernels.get(state.id) !== state) {
      conn.close();
      throw new RunAbortedError(`kernel ${state.id} on ${this.description} was shut down`);
    }
    state.connection = conn;
    if (waitReady) {
      try {
        await conn.waitReady(timeoutMs);
      } catch (err) {
        conn.close();
        throw err;
      }
    }
    return conn;
  }

  /** Closes the kernel's socket, failing its runs with `reason`, and keeps the kernel. */
  private drop(state: KernelState, reason?: () => Error): void {
    const conn = state.connection;
    state.connection = null;
    conn?.close(reason);
  }

  private forget(state: KernelState, reason?: () => Error): void {
    this.drop(state, reason);
    if (this.kernels.get(state.id) === state) this.kernels.delete(state.id);
  }

  /** A kernel the gateway no longer knows is forgotten here too. */
  private onKernelError(kernelId: string, err: unknown): never {
    if (err instanceof KernelNotFoundError) {
      const state = this.kernels.get(kernelId);
      if (state) this.forget(state);
    }
    throw err;
  }
}

async function settled(p: Promise<unknown> | null): Promise<void> {
  if (p) await p.then(() => {}, () => {});
}
