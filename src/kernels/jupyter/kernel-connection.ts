import { randomUUID } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import {
  GatewayUnavailableError, KernelDisconnectedError, KernelNotFoundError,
  type ExecuteOptions, type ExecuteResult,
} from '../kernel-gateway.js';
import { createMessage, executeRequest, parseFrame, toNbOutput, type JupyterMessage } from './jupyter-messages.js';
import type { JupyterGatewayLogger } from './logger.js';

/**
 * A started kernel whose WebSocket did not open, or that did not answer, in time. Jupyter
 * Server 1.x holds the WebSocket handshake until the kernel answers one kernel_info_request
 * it sends once; when a kernel that is still booting misses it, every handshake to that
 * kernel waits the server's kernel_info_timeout (60 s). Another kernel is the way out.
 */
export class KernelNotReadyError extends GatewayUnavailableError {
  override name = 'KernelNotReadyError';
}

export interface KernelConnectionOptions {
  kernelId: string;
  /** ws(s)://…/api/kernels/{id}/channels, without a query: the session id is added here. */
  url: URL;
  headers: Record<string, string>;
  username: string;
  description: string;
  logger: JupyterGatewayLogger;
  /** Ping period; a socket that misses a pong for a whole period is presumed dead. */
  heartbeatMs: number;
  /** Called once, when the socket is gone for good. */
  onClose: (conn: KernelConnection) => void;
}

interface Run {
  opts: ExecuteOptions;
  resolve: (result: ExecuteResult) => void;
  reject: (err: Error) => void;
  msgId?: string;
  /** execute_reply content, once it has come. */
  reply?: Record<string, unknown>;
  /** iopub `status: idle` has come: no more outputs for this run. */
  idle?: boolean;
}

/**
 * The one WebSocket the adapter holds to one kernel. Runs are queued here and sent one
 * at a time, so a run's outputs are exactly the iopub messages whose parent is its
 * execute_request, and an interrupt only ever hits the run in progress.
 */
export class KernelConnection {
  private closed = false;
  private current: Run | null = null;
  private readonly queue: Run[] = [];
  private readonly infoWaiters = new Map<string, (msg: JupyterMessage) => void>();
  private heartbeat: NodeJS.Timeout | null = null;

  private constructor(
    private readonly ws: WebSocket,
    private readonly opts: KernelConnectionOptions,
    /** One Jupyter session per socket: the server keys the socket's zmq identity by it. */
    readonly session: string,
  ) {}

  /** Opens the socket; rejects with the port's errors when the gateway or the kernel is not there. */
  static open(opts: KernelConnectionOptions, timeoutMs: number): Promise<KernelConnection> {
    const url = new URL(opts.url.href);
    const session = randomUUID();
    url.searchParams.set('session_id', session);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: opts.headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const settle = () => {
        ws.off('unexpected-response', onResponse);
        ws.off('error', onError);
        ws.off('open', onOpen);
      };
      const fail = (err: Error) => {
        settle();
        ws.on('error', () => {}); // the socket is being torn down; its last words do not matter
        ws.terminate();
        reject(err);
      };
      const onResponse = (req: ClientRequest, res: IncomingMessage) => {
        req.destroy();
        const status = res.statusCode ?? 0;
        if (status === 404) fail(new KernelNotFoundError(opts.kernelId));
        else if (status === 401 || status === 403) {
          fail(new GatewayUnavailableError(opts.description,
            `it refused the token (HTTP ${status} on the kernel WebSocket): check KERNEL_GATEWAY_TOKEN`));
        } else {
          fail(new GatewayUnavailableError(opts.description, `the kernel WebSocket of ${opts.kernelId} answered HTTP ${status}`));
        }
      };
      const onError = (err: Error & { code?: string }) => {
        if (/handshake has timed out/i.test(err.message)) {
          fail(new KernelNotReadyError(opts.description, `the kernel WebSocket of ${opts.kernelId} did not open within ${timeoutMs} ms`));
        } else {
          fail(new GatewayUnavailableError(opts.description, `cannot open the kernel WebSocket of ${opts.kernelId} (${err.code ?? err.message})`));
        }
      };
      const onOpen = () => {
        settle();
        const conn = new KernelConnection(ws, opts, session);
        conn.listen();
        resolve(conn);
      };
      ws.on('unexpected-response', onResponse);
      ws.on('error', onError);
      ws.on('open', onOpen);
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private listen(): void {
    let alive = true;
    this.ws.on('pong', () => { alive = true; });
    this.heartbeat = setInterval(() => {
      if (!alive) {
        this.opts.logger.warn({ kernel: this.opts.kernelId }, 'kernel WebSocket missed its heartbeat; closing it');
        this.ws.terminate();
        return;
      }
      alive = false;
      this.ws.ping();
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
    // Jupyter Server (Tornado) leaves Nagle's algorithm on for kernel WebSockets, so a
    // frame waits until the previous one is acknowledged, and Linux delays a bare ACK by
    // up to 40 ms: every run took ~45 ms for `1 + 1`. An unsolicited pong (RFC 6455 §5.5.3:
    // no answer expected) after each burst of frames carries the ACK at once: ~5 ms.
    let ackScheduled = false;
    const ack = () => {
      ackScheduled = false;
      if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.pong();
    };
    this.ws.on('message', (data, isBinary) => {
      if (!ackScheduled) {
        ackScheduled = true;
        setImmediate(ack);
      }
      const msg = parseFrame(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]), isBinary);
      if (msg) this.dispatch(msg);
    });
    this.ws.on('error', (err) => {
      this.opts.logger.warn({ kernel: this.opts.kernelId, err: err.message }, 'kernel WebSocket error');
      this.gone(`the kernel WebSocket failed (${err.message})`);
    });
    this.ws.on('close', (code, reason) => {
      this.gone(`the kernel WebSocket closed (code ${code}${reason.length ? `, ${reason.toString()}` : ''})`);
    });
  }

  private gone(why: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.abort(() => new KernelDisconnectedError(`lost kernel ${this.opts.kernelId} on ${this.opts.description}: ${why}`));
    this.ws.terminate();
    this.opts.onClose(this);
  }

  /** Closes the socket; runs still queued or in progress reject with the error `reason` makes. */
  close(reason?: () => Error): void {
    if (reason) this.abort(reason);
    this.gone('closed by the adapter');
  }

  /** Rejects the run in progress and every queued run. */
  abort(makeError: () => Error): void {
    const runs = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    for (const run of runs) run.reject(makeError());
  }

  execute(opts: ExecuteOptions): Promise<ExecuteResult> {
    if (this.closed) {
      return Promise.reject(new KernelDisconnectedError(`the connection to kernel ${this.opts.kernelId} on ${this.opts.description} is closed`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ opts, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.current || this.closed) return;
    const run = this.queue.shift();
    if (!run) return;
    this.current = run;
    const msg = executeRequest(run.opts.code, this.session, this.opts.username);
    run.msgId = msg.header.msg_id;
    this.send(msg, (err) => this.gone(`sending the execute_request failed (${err.message})`));
  }

  private finish(run: Run, result: ExecuteResult): void {
    if (this.current !== run) return;
    this.current = null;
    run.resolve(result);
    this.next();
  }

  private send(msg: JupyterMessage, onError: (err: Error) => void): void {
    this.ws.send(JSON.stringify(msg), (err) => { if (err) onError(err); });
  }

  private dispatch(msg: JupyterMessage): void {
    const parent = msg.parent_header.msg_id;
    const type = msg.header.msg_type;
    if (parent !== undefined) this.infoWaiters.get(parent)?.(msg);

    if (msg.channel === 'iopub' && type === 'status') {
      const state = msg.content.execution_state;
      // Sent by the server (with no parent) when the kernel process died: it is being
      // restarted (its state is lost) or is gone. Either way the run cannot finish.
      if (state === 'restarting' || state === 'dead') {
        this.opts.logger.warn({ kernel: this.opts.kernelId, state }, 'kernel died');
        this.abort(() => new KernelDisconnectedError(
          `kernel ${this.opts.kernelId} on ${this.opts.description} died (status: ${String(state)})`));
        // A fresh socket for the next run: the kernel's ports may have changed.
        this.gone(`the kernel died (status: ${String(state)})`);
        return;
      }
    }

    const run = this.current;
    if (!run || parent === undefined || parent !== run.msgId) return;
    if (msg.channel === 'iopub') {
      if (type === 'status') {
        if (msg.content.execution_state === 'idle') run.idle = true;
      } else {
        const output = toNbOutput(msg);
        if (output) {
          try {
            run.opts.onOutput(output);
          } catch (err) {
            this.opts.logger.warn({ kernel: this.opts.kernelId, err: (err as Error).message }, 'onOutput threw');
          }
        }
      }
    } else if (msg.channel === 'shell' && type === 'execute_reply') {
      run.reply = msg.content;
    }
    if (run.reply && run.idle) {
      const status = run.reply.status;
      this.finish(run, {
        status: status === 'ok' || status === 'aborted' ? status : 'error',
        executionCount: typeof run.reply.execution_count === 'number' ? run.reply.execution_count : null,
      });
    }
  }

  /**
   * Waits until the kernel answers a kernel_info_request on shell and iopub carries a
   * message for it, asking again every half second: zmq drops iopub messages sent before
   * the subscription is in place, and a run whose `idle` is lost would never end.
   */
  async waitReady(timeoutMs: number): Promise<void> {
    const ids: string[] = [];
    let replied = false;
    let onIopub = false;
    let timer: NodeJS.Timeout | undefined;
    let resend: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const check = (msg: JupyterMessage) => {
          if (msg.channel === 'shell' && msg.header.msg_type === 'kernel_info_reply') replied = true;
          if (msg.channel === 'iopub') onIopub = true;
          if (replied && onIopub) resolve();
        };
        const ask = () => {
          if (this.closed) {
            reject(new GatewayUnavailableError(this.opts.description, `the kernel WebSocket of ${this.opts.kernelId} closed before the kernel was ready`));
            return;
          }
          const msg = createMessage('shell', 'kernel_info_request', {}, this.session, this.opts.username);
          ids.push(msg.header.msg_id);
          this.infoWaiters.set(msg.header.msg_id, check);
          this.send(msg, () => {});
          resend = setTimeout(ask, 500);
        };
        timer = setTimeout(() => reject(new KernelNotReadyError(this.opts.description,
          `kernel ${this.opts.kernelId} did not answer within ${timeoutMs} ms of starting`)), timeoutMs);
        ask();
      });
    } finally {
      clearTimeout(timer);
      clearTimeout(resend);
      for (const id of ids) this.infoWaiters.delete(id);
    }
  }
}
