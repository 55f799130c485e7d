import type { NbOutput } from '../generated/schema-types.js';

export type { NbOutput };

/**
 * The port every kernel gateway adapter implements (DESIGN.md §6): Jupyter Server,
 * Kernel Gateway and Enterprise Gateway (`jupyter`), CPython in WebAssembly in a child
 * process (`pyodide`), or nothing (`none`). Executions, sessions, limits and output
 * capping live above it, in src/kernels/executions; an adapter only speaks its gateway's
 * protocol and turns what comes back into nbformat output dicts.
 */
export interface KernelGateway {
  /** `jupyter`, `pyodide` or `none`. */
  readonly kind: string;
  /** Says which gateway this is, for errors and logs ("jupyter gateway at http://10.0.0.5:8888"); never holds the token. */
  readonly description: string;

  listKernelspecs(): Promise<KernelSpecInfo[]>;
  /** Starts a kernel; resolves once it can take executions. */
  startKernel(opts: StartKernelOptions): Promise<KernelHandle>;
  /**
   * Runs `code` and calls `onOutput` with each output as it arrives. Resolves when the
   * run is complete (for Jupyter: both `execute_reply` and `status: idle` for its
   * msg_id). Rejects with KernelDisconnectedError when the kernel or the gateway goes
   * away mid-run, and with RunAbortedError when a restart or shutdown ends it.
   */
  execute(kernelId: string, opts: ExecuteOptions): Promise<ExecuteResult>;
  /** Asks the kernel to stop what it is running (KeyboardInterrupt); the run then ends `error`. */
  interrupt(kernelId: string): Promise<void>;
  /** Restarts the kernel: its state is lost; a run in progress rejects with RunAbortedError. */
  restart(kernelId: string): Promise<void>;
  shutdown(kernelId: string): Promise<void>;
  /** Shuts down every kernel this adapter started and frees its connections. */
  close(): Promise<void>;
}

export interface KernelSpecInfo {
  name: string;
  displayName: string;
  language: string;
}

export interface StartKernelOptions {
  /** The kernelspec to start (python3…). */
  kernelspec: string;
  /** The lesson environment (pytorch-2.4-cuda…), for logs and gateways that want it. */
  environment: string;
  /**
   * Variables for the kernel's start request: KERNEL_USERNAME (the learner) and the
   * environment's KERNEL_* settings, which Enterprise Gateway uses to choose the image
   * and GPUs of the container it launches.
   */
  env: Record<string, string>;
}

export interface KernelHandle {
  /** The gateway's id of the kernel. */
  id: string;
  kernelspec: string;
}

export interface ExecuteOptions {
  code: string;
  onOutput: (output: NbOutput) => void;
}

export interface ExecuteResult {
  /** The kernel's verdict (execute_reply status): `error` when the code raised (or was interrupted). */
  status: 'ok' | 'error' | 'aborted';
  executionCount: number | null;
}

/** The gateway cannot be reached, answers with an error, or is misconfigured: a 503 for clients. */
export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
  constructor(readonly gateway: string, readonly reason: string) {
    super(`${gateway} is unavailable: ${reason}`);
  }
}

/** The gateway does not know this kernel (it restarted, or culled it). */
export class KernelNotFoundError extends Error {
  override name = 'KernelNotFoundError';
  constructor(readonly kernelId: string) {
    super(`kernel ${kernelId} does not exist`);
  }
}

/** The connection to the kernel broke (or the kernel died) while a run was in progress. */
export class KernelDisconnectedError extends Error {
  override name = 'KernelDisconnectedError';
}

/** A restart or shutdown ended the run. */
export class RunAbortedError extends Error {
  override name = 'RunAbortedError';
}
