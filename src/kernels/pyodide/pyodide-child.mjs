// A pyodide kernel process, started by PyodideGateway with an empty environment and an
// IPC channel (protocol: child-messages.ts). Pyodide runs in a worker thread so that this
// thread stays free while a cell runs: it relays outputs as they come, coalescing small
// writes, and interrupts by writing SIGINT into the buffer Pyodide polls.
import { Worker } from 'node:worker_threads';

if (!process.send) {
  console.error('pyodide-child.mjs is started by PyodideGateway, with an IPC channel');
  process.exit(2);
}

/** Writes to one stream within this window go out as one output. */
const STREAM_FLUSH_MS = 15;
const STREAM_MAX_CHARS = 64 * 1024;
const SIGINT = 2;

const interruptBuffer = new Int32Array(new SharedArrayBuffer(4));
const worker = new Worker(new URL('./pyodide-worker.mjs', import.meta.url), {
  workerData: { interruptBuffer: interruptBuffer.buffer },
});
const send = (msg) => process.send(msg);
let running = false;
let fatal = null;

/** Stream text waiting to be sent: {runId, name, text}. */
let pending = null;
let flushTimer = null;

function flush() {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = null;
  if (!pending) return;
  const { runId, name, text } = pending;
  pending = null;
  send({ type: 'output', runId, output: { output_type: 'stream', name, text } });
}

function addStream({ runId, name, text }) {
  if (pending && (pending.name !== name || pending.runId !== runId)) flush();
  if (pending) pending.text += text;
  else pending = { runId, name, text };
  if (pending.text.length >= STREAM_MAX_CHARS) flush();
  else flushTimer ??= setTimeout(flush, STREAM_FLUSH_MS);
}

worker.on('message', (msg) => {
  switch (msg.type) {
    case 'stream':
      addStream(msg);
      break;
    case 'done':
      running = false;
      flush();
      send(msg);
      break;
    case 'fatal':
      fatal = msg.reason;
      break;
    default: // ready, load-failed, output: after the stream text written before them
      flush();
      send(msg);
  }
});
worker.on('error', (err) => {
  fatal ??= err instanceof Error ? err.stack ?? err.message : String(err);
});
worker.on('exit', (code) => {
  // The kernel is over (a load failure, already reported, or a fatal error). Sending a
  // last message and exiting in its callback lets everything sent before it arrive.
  flush();
  const exit = () => process.exit(code || 1);
  if (!process.connected) exit();
  process.send({ type: 'fatal', reason: fatal ?? `the Pyodide worker exited with code ${code}` }, exit);
  setTimeout(exit, 1_000);
});

process.on('message', (msg) => {
  if (msg.type === 'execute') {
    // A stale interrupt (sent as the previous run ended) must not hit this one.
    Atomics.store(interruptBuffer, 0, 0);
    running = true;
    worker.postMessage(msg);
  } else if (msg.type === 'interrupt' && running) {
    Atomics.store(interruptBuffer, 0, SIGINT);
    Atomics.notify(interruptBuffer, 0); // wakes an interruptible time.sleep
  }
});
// The gateway is gone (the server crashed or was killed): do not linger.
process.on('disconnect', () => process.exit(0));
