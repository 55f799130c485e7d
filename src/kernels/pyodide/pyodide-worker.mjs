// The worker thread of a pyodide kernel process: loads Pyodide, then runs one cell per
// `execute` message. Python runs synchronously here, so the thread is busy for the whole
// cell; the child's main thread (pyodide-child.mjs) stays free to relay outputs and to
// interrupt through the shared interrupt buffer.
//
// To the main thread: {type:'ready'|'load-failed'|'fatal'}, {type:'stream', runId, name,
// text} for each write, {type:'output', runId, output} and {type:'done', runId, status,
// executionCount}.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const interruptBuffer = new Int32Array(workerData.interruptBuffer);
const post = (msg) => parentPort.postMessage(msg);
const reason = (err) => (err instanceof Error ? err.stack ?? err.message : String(err));

let pyodide;
let kernel;
/** The run in progress: outputs carry its id. */
let runId = null;

try {
  const { loadPyodide } = await import('pyodide');
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  // Writes that bypass sys.stdout (os.write(1, …), C code) arrive here.
  const fdStream = (name) => ({
    write(bytes) {
      const text = decoders[name].decode(bytes, { stream: true });
      if (text && runId !== null) post({ type: 'stream', runId, name, text });
      return bytes.length;
    },
  });
  pyodide = await loadPyodide({ env: {}, stdout: () => {}, stderr: () => {} });
  pyodide.setStdout(fdStream('stdout'));
  pyodide.setStderr(fdStream('stderr'));
  pyodide.setStdin({ stdin: () => undefined });
  pyodide.setInterruptBuffer(interruptBuffer);
  pyodide.registerJsModule('_lectern_io', {
    stream: (name, text) => post({ type: 'stream', runId, name, text }),
    output: (json) => post({ type: 'output', runId, output: JSON.parse(json) }),
    // Returns at once while an interrupt is pending, and as soon as one arrives.
    wait: (ms) => Atomics.wait(interruptBuffer, 0, 0, ms),
  });
  pyodide.FS.mkdirTree('/lectern');
  pyodide.FS.writeFile('/lectern/_lectern_kernel.py', readFileSync(new URL('./kernel-harness.py', import.meta.url)));
  pyodide.runPython('import sys; sys.path.insert(0, "/lectern")');
  kernel = pyodide.pyimport('_lectern_kernel');
  const pythonVersion = pyodide.runPython('import sys; sys.version.split()[0]');
  post({ type: 'ready', pyodideVersion: pyodide.version, pythonVersion });
} catch (err) {
  post({ type: 'load-failed', reason: reason(err) });
  process.exit(1);
}

parentPort.on('message', (msg) => {
  if (msg.type !== 'execute') return;
  runId = msg.runId;
  let result;
  try {
    result = JSON.parse(kernel.run_cell(msg.code));
  } catch (err) {
    if (!(err instanceof pyodide.ffi.PythonError)) {
      // Pyodide's fatal errors (a stack overflow in WebAssembly…) leave the interpreter
      // unusable: end the process, the gateway reports the kernel as gone.
      post({ type: 'fatal', reason: reason(err) });
      process.exit(1);
    }
    // An interrupt that landed in the harness itself, outside the cell's try.
    post({ type: 'output', runId, output: { output_type: 'error', ename: err.type, evalue: '', traceback: [err.message.trimEnd()] } });
    result = { status: 'error', execution_count: kernel.execution_count };
  }
  post({ type: 'done', runId, status: result.status, executionCount: result.execution_count });
  runId = null;
});
