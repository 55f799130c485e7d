import type { NbOutput } from '../kernel-gateway.js';

/**
 * The IPC protocol between PyodideGateway and a kernel process (pyodide-child.mjs), over
 * the child_process channel (JSON). The child loads Pyodide as soon as it starts and
 * says `ready`; the gateway sends one `execute` at a time and waits for its `done`.
 */
export type ToChild =
  | { type: 'execute'; runId: string; code: string }
  /** Raises KeyboardInterrupt in the run in progress; ignored when idle. */
  | { type: 'interrupt' };

export type FromChild =
  | { type: 'ready'; pyodideVersion: string; pythonVersion: string }
  | { type: 'load-failed'; reason: string }
  /** Consecutive writes to one stream, coalesced by the child for a few milliseconds. */
  | { type: 'output'; runId: string; output: NbOutput }
  | { type: 'done'; runId: string; status: 'ok' | 'error'; executionCount: number | null }
  /** The interpreter is unusable (a Pyodide fatal error); the child exits right after. */
  | { type: 'fatal'; reason: string };
