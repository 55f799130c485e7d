import { randomUUID } from 'node:crypto';
import type { NbOutput } from '../kernel-gateway.js';

/**
 * Jupyter messaging protocol 5.x as it travels over a Jupyter Server (or Kernel /
 * Enterprise Gateway) WebSocket: one JSON text frame per message with a `channel` field.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html
 */
export const PROTOCOL_VERSION = '5.3';

export type Channel = 'shell' | 'iopub' | 'stdin' | 'control';

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session?: string;
  username?: string;
  date?: string;
  version?: string;
}

export interface JupyterMessage {
  channel?: string;
  header: MessageHeader;
  /** `{}` for messages nobody asked for (a status the server sends after a kernel died). */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers?: unknown[];
}

export function createMessage(
  channel: Channel,
  msgType: string,
  content: Record<string, unknown>,
  session: string,
  username: string,
): JupyterMessage & { channel: Channel } {
  return {
    channel,
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session,
      username,
      version: PROTOCOL_VERSION,
      date: new Date().toISOString(),
    },
    parent_header: {},
    metadata: {},
    content,
  };
}

export function executeRequest(code: string, session: string, username: string) {
  return createMessage('shell', 'execute_request', {
    code,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: false,
    // The adapter sends one request at a time, so there is never a queued request of ours
    // for stop_on_error to abort. Worse, ipykernel (6.x) lifts its abort only on a later
    // turn of its loop, so with `true` the run sent right after a failed one is sometimes
    // answered `aborted` without running.
    stop_on_error: false,
  }, session, username);
}

/**
 * Decodes one WebSocket frame. Text frames are JSON; a message that carries binary
 * buffers (comms, widgets) arrives as a binary frame in the legacy format: a uint32
 * count n, n uint32 offsets, the JSON message, then the buffers, which we drop.
 * Returns null for anything that is not a message.
 */
export function parseFrame(data: Buffer, isBinary: boolean): JupyterMessage | null {
  let json: string;
  if (isBinary) {
    if (data.length < 8) return null;
    const n = data.readUInt32BE(0);
    if (n < 1 || data.length < 4 * (n + 1)) return null;
    const start = data.readUInt32BE(4);
    const end = n > 1 ? data.readUInt32BE(8) : data.length;
    if (start > end || end > data.length) return null;
    json = data.subarray(start, end).toString('utf8');
  } else {
    json = data.toString('utf8');
  }
  let msg: unknown;
  try {
    msg = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isMessage(msg)) return null;
  msg.parent_header ??= {};
  msg.content ??= {};
  msg.metadata ??= {};
  return msg;
}

function isMessage(value: unknown): value is JupyterMessage {
  if (typeof value !== 'object' || value === null) return false;
  const header = (value as { header?: unknown }).header;
  return typeof header === 'object' && header !== null
    && typeof (header as MessageHeader).msg_type === 'string';
}

const object = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {};

/**
 * Turns an iopub message into the nbformat output it stands for, or null for messages
 * that are not outputs. `execute_input` is an echo of the code; `clear_output` and
 * `update_display_data` edit outputs already shown, which an append-only list of
 * outputs cannot express, so they are dropped (the output stays as first displayed).
 */
export function toNbOutput(msg: JupyterMessage): NbOutput | null {
  const c = msg.content;
  switch (msg.header.msg_type) {
    case 'stream':
      return {
        output_type: 'stream',
        name: c.name === 'stderr' ? 'stderr' : 'stdout',
        text: typeof c.text === 'string' ? c.text : String(c.text ?? ''),
      };
    case 'display_data':
      return { output_type: 'display_data', data: object(c.data), metadata: object(c.metadata) };
    case 'execute_result':
      return {
        output_type: 'execute_result',
        data: object(c.data),
        metadata: object(c.metadata),
        execution_count: typeof c.execution_count === 'number' ? c.execution_count : null,
      };
    case 'error':
      return {
        output_type: 'error',
        ename: String(c.ename ?? ''),
        evalue: String(c.evalue ?? ''),
        traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
      };
    default:
      return null;
  }
}
