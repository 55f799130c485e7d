import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GatewayUnavailableError,
  KernelDisconnectedError,
  KernelNotFoundError,
  RunAbortedError,
  type ExecuteResult,
  type NbOutput,
} from '../../src/kernels/kernel-gateway.js';
import { PyodideGateway } from '../../src/kernels/pyodide/pyodide-gateway.js';

// Set before any kernel process exists: the kernels must not see it.
const SECRET_NAME = 'LECTERN_PYODIDE_TEST_SECRET';
process.env[SECRET_NAME] = `secret-${randomUUID()}`;

const START = { kernelspec: 'python3', environment: 'python-stdlib', env: { KERNEL_USERNAME: 'learner' } };

interface Run {
  result: ExecuteResult;
  outputs: NbOutput[];
  /** When each output arrived, in ms after the execute call. */
  at: number[];
  ms: number;
}

function run(gateway: PyodideGateway, kernelId: string, code: string, onOutput?: (o: NbOutput) => void): Promise<Run> {
  const outputs: NbOutput[] = [];
  const at: number[] = [];
  const t0 = performance.now();
  return gateway
    .execute(kernelId, {
      code,
      onOutput: (o) => {
        outputs.push(o);
        at.push(performance.now() - t0);
        onOutput?.(o);
      },
    })
    .then((result) => ({ result, outputs, at, ms: performance.now() - t0 }));
}

/** Starts a run and resolves `started` at its first output, so that tests act mid-run without sleeping. */
function runInBackground(gateway: PyodideGateway, kernelId: string, code: string) {
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const done = run(gateway, kernelId, code, () => onStarted());
  done.catch(() => {});
  return { started: Promise.race([started, done.then(() => {})]), done };
}

/** The text/plain of the execute_result of a run that must have one. */
async function value(gateway: PyodideGateway, kernelId: string, code: string): Promise<string> {
  const { result, outputs } = await run(gateway, kernelId, code);
  expect(result.status, JSON.stringify(outputs)).toBe('ok');
  const out = outputs.find((o) => o.output_type === 'execute_result');
  if (out?.output_type !== 'execute_result') throw new Error(`no execute_result: ${JSON.stringify(outputs)}`);
  return out.data['text/plain'] as string;
}

/** Consecutive stream outputs of one name merged: the child may split or coalesce writes. */
function mergeStreams(outputs: NbOutput[]): NbOutput[] {
  const merged: NbOutput[] = [];
  for (const o of outputs) {
    const prev = merged.at(-1);
    if (o.output_type === 'stream' && prev?.output_type === 'stream' && prev.name === o.name) merged[merged.length - 1] = { ...prev, text: prev.text + o.text };
    else merged.push(o);
  }
  return merged;
}

/** Live kernel processes of this test process (Linux /proc). */
function kernelProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('pyodide-child.mjs')) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

const gateways: PyodideGateway[] = [];
const track = (gateway: PyodideGateway) => (gateways.push(gateway), gateway);

describe('PyodideGateway', () => {
  let gw: PyodideGateway;
  /** Shared by the tests that do not break or restart their kernel. */
  let kernel: string;

  beforeAll(async () => {
    gw = track(new PyodideGateway({ spares: 1 }));
    kernel = (await gw.startKernel(START)).id;
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
  });

  it('offers one kernelspec, python3', async () => {
    expect(await gw.listKernelspecs()).toEqual([{ name: 'python3', displayName: 'Python 3 (Pyodide)', language: 'python' }]);
    expect(gw.kind).toBe('pyodide');
  });

  it('refuses another kernelspec with GatewayUnavailableError', async () => {
    await expect(gw.startKernel({ ...START, kernelspec: 'ir' })).rejects.toThrow(GatewayUnavailableError);
    await expect(gw.startKernel({ ...START, kernelspec: 'ir' })).rejects.toThrow(/no kernelspec "ir"/);
  });

  it('streams stdout and stderr in the order they were written', async () => {
    // A cell of /work/shared/fixtures/notebooks/errors-en.ipynb, with its recorded outputs.
    const fixture = await run(gw, kernel, "import sys\nprint('to stderr', file=sys.stderr)\nprint('to stdout')");
    expect(fixture.result.status).toBe('ok');
    expect(mergeStreams(fixture.outputs)).toEqual([
      { output_type: 'stream', name: 'stderr', text: 'to stderr\n' },
      { output_type: 'stream', name: 'stdout', text: 'to stdout\n' },
    ]);

    const mixed = await run(gw, kernel, "import sys, os\nprint(1)\nprint(2, end='')\nsys.stderr.write('3\\n')\nprint('é', flush=True)\nsys.stdout.buffer.write('ü\\n'.encode())\n_ = os.write(2, b'fd\\n')");
    expect(mergeStreams(mixed.outputs)).toEqual([
      { output_type: 'stream', name: 'stdout', text: '1\n2' },
      { output_type: 'stream', name: 'stderr', text: '3\n' },
      { output_type: 'stream', name: 'stdout', text: 'é\nü\n' },
      { output_type: 'stream', name: 'stderr', text: 'fd\n' },
    ]);
  });

  it('delivers a print before the sleep that follows it ends', async () => {
    const { result, outputs, at, ms } = await run(gw, kernel, "import time\nprint('before')\ntime.sleep(1.5)\nprint('after')");
    expect(result.status).toBe('ok');
    expect(mergeStreams(outputs)).toEqual([{ output_type: 'stream', name: 'stdout', text: 'before\nafter\n' }]);
    expect(at[0]).toBeLessThan(1_000);
    expect(ms).toBeGreaterThanOrEqual(1_450);
  });

  it('shows the value of a trailing expression as execute_result, like IPython', async () => {
    const { result, outputs } = await run(gw, kernel, 'x = 41\nx + 1');
    expect(result).toEqual({ status: 'ok', executionCount: expect.any(Number) });
    expect(outputs).toEqual([
      { output_type: 'execute_result', data: { 'text/plain': '42' }, metadata: {}, execution_count: result.executionCount },
    ]);
    expect(await value(gw, kernel, "'a' + 'b'")).toBe("'ab'");
    // None, a trailing `;` and a trailing statement show nothing.
    for (const code of ['None', 'x;', 'y = x', 'print()', 'if True:\n    x']) {
      const quiet = await run(gw, kernel, code);
      expect(quiet.outputs.filter((o) => o.output_type === 'execute_result'), code).toEqual([]);
    }
  });

  it('display() sends display_data with the reprs the object has', async () => {
    const { result, outputs } = await run(
      gw,
      kernel,
      [
        'class Card:',
        '    def __repr__(self): return "Card()"',
        '    def _repr_html_(self): return "<b>card</b>"',
        '    def _repr_png_(self): return b"\\x89PNG"',
        'display(Card())',
        'display(1, "two")',
      ].join('\n'),
    );
    expect(result.status).toBe('ok');
    expect(outputs).toEqual([
      { output_type: 'display_data', data: { 'text/html': '<b>card</b>', 'image/png': 'iVBORw==', 'text/plain': 'Card()' }, metadata: {} },
      { output_type: 'display_data', data: { 'text/plain': '1' }, metadata: {} },
      { output_type: 'display_data', data: { 'text/plain': "'two'" }, metadata: {} },
    ]);
  });

  it('reports an exception as an error output with a traceback of the cell', async () => {
    // The first cell of errors-en.ipynb.
    const { result, outputs } = await run(gw, kernel, '1 / 0');
    expect(result.status).toBe('error');
    expect(outputs).toHaveLength(1);
    const [error] = outputs;
    if (error?.output_type !== 'error') throw new Error(JSON.stringify(outputs));
    expect(error).toMatchObject({ ename: 'ZeroDivisionError', evalue: 'division by zero' });
    expect(error.traceback.at(-1)).toBe('ZeroDivisionError: division by zero');
    expect(error.traceback.join('\n')).toMatch(/File "<cell-\d+>", line 1, in <module>\n {4}1 \/ 0/);

    const nested = await run(gw, kernel, 'def divide(a, b):\n    return a / b\n\ndivide(1, 0)');
    const text = nested.outputs.map((o) => (o.output_type === 'error' ? o.traceback.join('\n') : '')).join('');
    expect(text).toMatch(/in divide\n {4}return a \/ b/);
    // Neither the harness nor Pyodide's own frames.
    expect(text).not.toMatch(/_lectern_kernel|_pyodide|run_cell/);

    const syntax = await run(gw, kernel, 'print(1 +)');
    expect(syntax.result.status).toBe('error');
    expect(syntax.outputs).toEqual([expect.objectContaining({ output_type: 'error', ename: 'SyntaxError' })]);
    expect(JSON.stringify(syntax.outputs)).not.toMatch(/ast\.py|Traceback/);
  });

  it('keeps state between runs and counts executions', async () => {
    const first = await run(gw, kernel, 'counter = 1');
    const second = await run(gw, kernel, 'counter += 1\ncounter');
    expect(second.outputs).toEqual([expect.objectContaining({ data: { 'text/plain': '2' } })]);
    expect(second.result.executionCount).toBe(first.result.executionCount! + 1);
  });

  it('queues an execute sent while another runs', async () => {
    const slow = run(gw, kernel, 'import time\ntime.sleep(0.5)\norder = [1]');
    const next = run(gw, kernel, 'order.append(2)\norder');
    const [a, b] = await Promise.all([slow, next]);
    expect(a.result.status).toBe('ok');
    expect(b.outputs).toEqual([expect.objectContaining({ data: { 'text/plain': '[1, 2]' } })]);
    expect(b.result.executionCount).toBe(a.result.executionCount! + 1);
  });

  it('rejects a run whose output callback throws, once the kernel is done with it', async () => {
    const failing = gw.execute(kernel, {
      code: "print('a')\nprint('b')\nthrown = True",
      onOutput: () => {
        throw new Error('consumer bug');
      },
    });
    await expect(failing).rejects.toThrow('consumer bug');
    expect(await value(gw, kernel, 'thrown')).toBe('True');
  });

  it('interrupts `while True: pass` with KeyboardInterrupt and keeps the state', async () => {
    await run(gw, kernel, "kept = 'still here'");
    for (const code of ["print('go')\nwhile True:\n    pass", "import time\nprint('go')\ntime.sleep(60)"]) {
      const loop = runInBackground(gw, kernel, code);
      await loop.started;
      const t0 = performance.now();
      await gw.interrupt(kernel);
      const { result, outputs } = await loop.done;
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(result.status).toBe('error');
      expect(outputs.at(-1)).toMatchObject({ output_type: 'error', ename: 'KeyboardInterrupt' });
    }
    expect(await value(gw, kernel, 'kept')).toBe("'still here'");
    // An interrupt while idle is a no-op: the next run is not hit by it.
    await gw.interrupt(kernel);
    expect(await value(gw, kernel, '1 + 1')).toBe('2');
  });

  it("does not pass the server's environment to the kernel", async () => {
    expect(process.env[SECRET_NAME]).toBeTruthy();
    const seen = await value(gw, kernel, `import js, os\n('${SECRET_NAME}' in os.environ, getattr(js.process.env, '${SECRET_NAME}', None), list(js.Object.keys(js.process.env)))`);
    expect(seen).toBe('(False, None, [])');
    const values = await value(gw, kernel, 'import os\nlist(os.environ.values())');
    expect(values).not.toContain(process.env[SECRET_NAME]);
  });

  it('restart loses the state and aborts the run in progress', async () => {
    const { id } = await gw.startKernel(START);
    await run(gw, id, 'lost = 1');
    const loop = runInBackground(gw, id, "print('go')\nwhile True:\n    pass");
    await loop.started;
    const queued = run(gw, id, 'lost');
    queued.catch(() => {});
    await gw.restart(id);
    await expect(loop.done).rejects.toThrow(RunAbortedError);
    await expect(queued).rejects.toThrow(RunAbortedError);
    const after = await run(gw, id, 'lost');
    expect(after.result).toEqual({ status: 'error', executionCount: 1 });
    expect(after.outputs).toEqual([expect.objectContaining({ ename: 'NameError' })]);
    await gw.shutdown(id);
    await expect(run(gw, id, '1')).rejects.toThrow(KernelNotFoundError);
  });

  it('a kernel process killed from outside fails its run, then the kernel is gone', async () => {
    const { id } = await gw.startKernel(START);
    const pid = Number(await value(gw, id, 'import js\njs.process.pid'));
    expect(kernelProcesses()).toContain(pid);
    const loop = runInBackground(gw, id, "print('go')\nwhile True:\n    pass");
    await loop.started;
    process.kill(pid, 'SIGKILL');
    await expect(loop.done).rejects.toThrow(KernelDisconnectedError);
    await expect(run(gw, id, '1')).rejects.toThrow(KernelNotFoundError);
    await expect(gw.interrupt(id)).rejects.toThrow(KernelNotFoundError);
    await expect(gw.restart(id)).rejects.toThrow(KernelNotFoundError);
    await expect(gw.shutdown(id)).rejects.toThrow(KernelNotFoundError);
  });

  it('a warm spare makes startKernel skip the Pyodide load', async () => {
    const cold = track(new PyodideGateway({ spares: 0 }));
    let t0 = performance.now();
    const a = await cold.startKernel(START);
    const coldMs = performance.now() - t0;
    await cold.close();

    await gw.warm();
    t0 = performance.now();
    const b = await gw.startKernel(START);
    const warmMs = performance.now() - t0;
    expect(await value(gw, b.id, '1 + 1')).toBe('2');
    expect(a.kernelspec).toBe('python3');
    expect(warmMs).toBeLessThan(Math.min(coldMs / 3, 1_000));
  });

  it('fails with GatewayUnavailableError when Pyodide does not load in time', async () => {
    const slow = track(new PyodideGateway({ spares: 0, loadTimeoutMs: 50 }));
    await expect(slow.startKernel(START)).rejects.toThrow(/did not load within 50 ms/);
    await expect(slow.startKernel(START)).rejects.toThrow(GatewayUnavailableError);
    await slow.close();
  });

  it('close() aborts runs and leaves no kernel process behind', async () => {
    await gw.warm();
    const loop = runInBackground(gw, kernel, "print('go')\nwhile True:\n    pass");
    await loop.started;
    expect(kernelProcesses().length).toBeGreaterThanOrEqual(2); // the kernels and the spare
    await Promise.all(gateways.map((g) => g.close()));
    await expect(loop.done).rejects.toThrow(RunAbortedError);
    expect(kernelProcesses()).toEqual([]);
    await expect(gw.startKernel(START)).rejects.toThrow(GatewayUnavailableError);
    await expect(run(gw, kernel, '1')).rejects.toThrow(KernelNotFoundError);
  });
});
