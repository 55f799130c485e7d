import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JupyterGateway } from '../../src/kernels/jupyter/jupyter-gateway.js';
import {
  GatewayUnavailableError,
  KernelDisconnectedError,
  KernelNotFoundError,
  RunAbortedError,
  type ExecuteResult,
  type NbOutput,
} from '../../src/kernels/kernel-gateway.js';
import { JUPYTER_SERVER } from '../helpers/env.js';
import { startJupyterServer, startRecordingProxy, type JupyterServer } from '../helpers/jupyter-server.js';
import { freePort } from '../helpers/server-process.js';

/** The code cells of the shared errors-en notebook: 1 / 0, stderr and stdout, an endless loop. */
const [DIVIDE_BY_ZERO, STDERR_AND_STDOUT, ENDLESS_LOOP] = (() => {
  const path = [
    new URL('../fixtures/notebooks/errors-en.ipynb', import.meta.url),
    new URL('../../../shared/fixtures/notebooks/errors-en.ipynb', import.meta.url),
  ].find((p) => existsSync(p));
  if (!path) throw new Error('errors-en.ipynb not found in test/fixtures/notebooks or ../shared/fixtures/notebooks');
  const nb = JSON.parse(readFileSync(path, 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
})() as [string, string, string];

/** A 1×1 PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const START = { kernelspec: 'python3', environment: 'python-stdlib', env: { KERNEL_USERNAME: 'learner-7' } };

interface Run {
  result: ExecuteResult;
  outputs: NbOutput[];
}

function run(gateway: JupyterGateway, kernelId: string, code: string): Promise<Run> {
  const outputs: NbOutput[] = [];
  return gateway.execute(kernelId, { code, onOutput: (o) => outputs.push(o) }).then((result) => ({ result, outputs }));
}

/**
 * Starts a run to act on while it is in progress: `started` resolves at its first output
 * (so the code must print first), when the kernel is certainly running it.
 */
function runInBackground(gateway: JupyterGateway, kernelId: string, code: string) {
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const outputs: NbOutput[] = [];
  const done = gateway
    .execute(kernelId, { code, onOutput: (o) => { outputs.push(o); onStarted(); } })
    .then((result) => ({ result, outputs }));
  done.catch(() => {});
  // `started` never rejects: a run aborted before its first output (a queued one) only
  // settles `done`, which the test awaits; a rejected `started` nobody awaits would be an
  // unhandled rejection.
  return { started: Promise.race([started, done.then(() => {}, () => {})]), done };
}

/** Code that says it started, then sleeps. */
const SLEEP = (s: number) => `import time\nprint('sleeping', flush=True)\ntime.sleep(${s})`;

function text(outputs: NbOutput[], name: 'stdout' | 'stderr'): string {
  return outputs.map((o) => (o.output_type === 'stream' && o.name === name ? o.text : '')).join('');
}

async function value(gateway: JupyterGateway, kernelId: string, code: string): Promise<string> {
  const { result, outputs } = await run(gateway, kernelId, code);
  expect(result.status, JSON.stringify(outputs)).toBe('ok');
  const out = outputs.find((o) => o.output_type === 'execute_result');
  if (out?.output_type !== 'execute_result') throw new Error(`no execute_result: ${JSON.stringify(outputs)}`);
  return out.data['text/plain'] as string;
}

/** How long `p` takes to settle, and with what. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe.skipIf(!JUPYTER_SERVER)('jupyter gateway against a real Jupyter Server', () => {
  let server: JupyterServer;
  let gateway: JupyterGateway;
  let kernelId: string;
  const logged: string[] = [];
  const logger = {
    debug: (obj: object, msg: string) => logged.push(`${msg} ${JSON.stringify(obj)}`),
    info: (obj: object, msg: string) => logged.push(`${msg} ${JSON.stringify(obj)}`),
    warn: (obj: object, msg: string) => logged.push(`${msg} ${JSON.stringify(obj)}`),
  };

  beforeAll(async () => {
    server = await startJupyterServer();
    gateway = new JupyterGateway({ url: server.url, token: server.token, logger });
    kernelId = (await gateway.startKernel(START)).id;
  });

  afterAll(async () => {
    await gateway?.close();
    await server?.stop();
  });

  it('lists the python3 kernelspec', async () => {
    const specs = await gateway.listKernelspecs();
    expect(specs).toContainEqual(expect.objectContaining({ name: 'python3', language: 'python' }));
  });

  it('streams stdout and stderr as stream outputs', async () => {
    const { result, outputs } = await run(gateway, kernelId, STDERR_AND_STDOUT);
    expect(result.status).toBe('ok');
    expect(text(outputs, 'stderr')).toBe('to stderr\n');
    expect(text(outputs, 'stdout')).toBe('to stdout\n');
    expect(outputs.every((o) => o.output_type === 'stream')).toBe(true);
  });

  it('returns an execute_result with its execution_count', async () => {
    const { result, outputs } = await run(gateway, kernelId, '1 + 1');
    expect(result.status).toBe('ok');
    expect(result.executionCount).toBeGreaterThan(0);
    expect(outputs).toEqual([{
      output_type: 'execute_result', data: { 'text/plain': '2' }, metadata: {}, execution_count: result.executionCount,
    }]);
  });

  it('passes on display_data with an image/png as base64', async () => {
    const code = `import base64\nfrom IPython.display import display, Image\ndisplay(Image(data=base64.b64decode('${PNG_BASE64}')))`;
    const { result, outputs } = await run(gateway, kernelId, code);
    expect(result.status).toBe('ok');
    expect(outputs).toHaveLength(1);
    const out = outputs[0]!;
    if (out.output_type !== 'display_data') throw new Error(JSON.stringify(outputs));
    expect(String(out.data['image/png']).replace(/\s/g, '')).toBe(PNG_BASE64);
    expect(out.data['text/plain']).toMatch(/Image object/);
  });

  it('reports an exception as an error output and an error status', async () => {
    const { result, outputs } = await run(gateway, kernelId, DIVIDE_BY_ZERO);
    expect(result.status).toBe('error');
    expect(result.executionCount).toBeGreaterThan(0);
    expect(outputs).toHaveLength(1);
    const out = outputs[0]!;
    if (out.output_type !== 'error') throw new Error(JSON.stringify(outputs));
    expect(out.ename).toBe('ZeroDivisionError');
    expect(out.evalue).toBe('division by zero');
    expect(out.traceback.length).toBeGreaterThan(0);
    expect(out.traceback.join('\n')).toContain('ZeroDivisionError');
  });

  it('keeps state between runs on one kernel', async () => {
    await run(gateway, kernelId, 'x = 41');
    expect(await value(gateway, kernelId, 'x + 1')).toBe('42');
  });

  it('runs the code sent right after a failed run instead of aborting it', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await run(gateway, kernelId, DIVIDE_BY_ZERO)).result.status).toBe('error');
      expect(await value(gateway, kernelId, `${i} + 1`)).toBe(String(i + 1));
    }
  });

  it('queues concurrent runs on one kernel and runs them in order', async () => {
    const order: string[] = [];
    const first = gateway.execute(kernelId, {
      code: "import time\ntime.sleep(0.5)\nprint('first')",
      onOutput: () => order.push('first'),
    });
    const second = gateway.execute(kernelId, { code: "print('second')", onOutput: () => order.push('second') });
    const [a, b] = await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(a.status).toBe('ok');
    expect(b.executionCount).toBe(a.executionCount! + 1);
  });

  it('interrupts an endless loop: the run ends with a KeyboardInterrupt error', async () => {
    const id = (await gateway.startKernel(START)).id;
    const { started, done } = runInBackground(gateway, id, `print('looping', flush=True)\n${ENDLESS_LOOP}`);
    await started;
    const t0 = performance.now();
    // A SIGINT that lands just before the loop starts is lost: ask again until it stops.
    let finished = false;
    done.finally(() => { finished = true; }).catch(() => {});
    for (let i = 0; i < 5 && !finished; i++) {
      await gateway.interrupt(id);
      await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
    }
    const { result, outputs } = await done;
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(result.status).toBe('error');
    expect(outputs).toContainEqual(expect.objectContaining({ output_type: 'error', ename: 'KeyboardInterrupt' }));
    expect(await value(gateway, id, '2 * 21')).toBe('42');
    await gateway.shutdown(id);
  });

  it('restart loses the state and aborts the run in progress', async () => {
    const id = (await gateway.startKernel(START)).id;
    await run(gateway, id, 'y = 1');
    const { started, done } = runInBackground(gateway, id, SLEEP(30));
    const queued = runInBackground(gateway, id, 'y = 2');
    await started;
    const t0 = performance.now();
    await gateway.restart(id);
    const { error, ms } = await timed(done);
    expect(error).toBeInstanceOf(RunAbortedError);
    expect((error as Error).message).toContain('restarted');
    await expect(queued.done).rejects.toBeInstanceOf(RunAbortedError);
    expect(ms).toBeLessThan(20_000);
    expect(performance.now() - t0).toBeLessThan(20_000);
    const { result, outputs } = await run(gateway, id, 'y');
    expect(result.status).toBe('error');
    expect(outputs).toContainEqual(expect.objectContaining({ output_type: 'error', ename: 'NameError' }));
    expect(await value(gateway, id, '1 + 1')).toBe('2');
    await gateway.shutdown(id);
  });

  it('shutdown aborts the run in progress, and the kernel is gone afterwards', async () => {
    const id = (await gateway.startKernel(START)).id;
    const { started, done } = runInBackground(gateway, id, SLEEP(30));
    await started;
    await gateway.shutdown(id);
    await expect(done).rejects.toBeInstanceOf(RunAbortedError);
    await expect(gateway.execute(id, { code: '1', onOutput: () => {} })).rejects.toBeInstanceOf(KernelNotFoundError);
  });

  it('ends the run with KernelDisconnectedError when the kernel process dies, and runs again after', async () => {
    const id = (await gateway.startKernel(START)).id;
    await run(gateway, id, 'z = 1');
    const { error, ms } = await timed(gateway.execute(id, { code: 'import os\nos._exit(1)', onOutput: () => {} }));
    expect(error).toBeInstanceOf(KernelDisconnectedError);
    expect((error as Error).message).toMatch(/died/);
    // Jupyter Server notices within its restarter's poll interval (3 s).
    expect(ms).toBeLessThan(20_000);
    // The server restarted the kernel under the same id: a new socket, no state.
    const after = await run(gateway, id, 'z');
    expect(after.outputs).toContainEqual(expect.objectContaining({ output_type: 'error', ename: 'NameError' }));
    await gateway.shutdown(id);
  });

  it('fails with KernelNotFoundError on a kernel the gateway does not know', async () => {
    const id = randomUUID();
    await expect(gateway.execute(id, { code: '1', onOutput: () => {} })).rejects.toBeInstanceOf(KernelNotFoundError);
    await expect(gateway.interrupt(id)).rejects.toBeInstanceOf(KernelNotFoundError);
    await expect(gateway.restart(id)).rejects.toBeInstanceOf(KernelNotFoundError);
    await expect(gateway.shutdown(id)).rejects.toBeInstanceOf(KernelNotFoundError);
  });

  it('sends env with KERNEL_USERNAME in the start request, and the token only in the Authorization header', async () => {
    const proxy = await startRecordingProxy(server.url);
    const viaProxy = new JupyterGateway({ url: proxy.url, token: server.token });
    try {
      const env = { KERNEL_USERNAME: 'learner-42', KERNEL_GPUS: '0' };
      const { id } = await viaProxy.startKernel({ kernelspec: 'python3', environment: 'python-stdlib', env });
      const start = proxy.requests.find((r) => r.method === 'POST' && r.url === '/api/kernels');
      expect(start, JSON.stringify(proxy.requests.map((r) => `${r.method} ${r.url}`))).toBeDefined();
      expect(JSON.parse(start!.body)).toEqual({ name: 'python3', env });
      expect(proxy.requests.some((r) => r.url.startsWith(`/api/kernels/${id}/channels?session_id=`))).toBe(true);
      for (const r of proxy.requests) {
        expect(r.headers.authorization).toBe(`token ${server.token}`);
        expect(r.url).not.toContain(server.token);
      }
      // Jupyter Server 1.x/2.x start the kernel without the request's env (Enterprise
      // Gateway uses it); if this server forwards it, it must be the learner's.
      const { outputs } = await run(viaProxy, id, "import os\nprint(os.environ.get('KERNEL_USERNAME'))");
      expect(['None\n', 'learner-42\n']).toContain(text(outputs, 'stdout'));
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('starts another kernel when a new one does not become ready in time, and shuts the first down', async () => {
    const proxy = await startRecordingProxy(server.url, { stallUpgrades: 1 });
    const viaProxy = new JupyterGateway({ url: proxy.url, token: server.token, readyTimeoutMs: 1_500, logger });
    try {
      const { id } = await viaProxy.startKernel(START);
      const seen = proxy.requests.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')}`);
      const starts = seen.filter((r) => r === 'POST /api/kernels');
      expect(starts, seen.join('\n')).toHaveLength(2);
      const first = proxy.requests.find((r) => r.url.includes('/channels'))!.url.split('/')[3]!;
      expect(first).not.toBe(id);
      expect(seen).toContain(`DELETE /api/kernels/${first}`);
      expect(await value(viaProxy, id, '6 * 7')).toBe('42');
      const listed = await (await fetch(`${server.url}/api/kernels`, { headers: { authorization: `token ${server.token}` } })).json() as { id: string }[];
      expect(listed.map((k) => k.id)).not.toContain(first);
      expect(logged.some((l) => l.startsWith('kernel did not become ready; starting another'))).toBe(true);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('gives up with KernelNotReadyError when no kernel becomes ready within kernelTimeoutMs', async () => {
    const proxy = await startRecordingProxy(server.url, { stallUpgrades: 100 });
    const viaProxy = new JupyterGateway({ url: proxy.url, token: server.token, readyTimeoutMs: 1_000, kernelTimeoutMs: 2_500 });
    try {
      const { error } = await timed(viaProxy.startKernel(START));
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect((error as Error).message).toMatch(/did not open within 1000 ms/);
      const listed = await (await fetch(`${server.url}/api/kernels`, { headers: { authorization: `token ${server.token}` } })).json() as { id: string }[];
      const started = proxy.requests.filter((r) => r.method === 'POST' && r.url === '/api/kernels').length;
      expect(started).toBeGreaterThanOrEqual(2);
      for (const r of proxy.requests.filter((q) => q.url.includes('/channels'))) expect(listed.map((k) => k.id)).not.toContain(r.url.split('/')[3]);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('refuses a wrong token with GatewayUnavailableError that says so, on REST and on the WebSocket', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const bad = new JupyterGateway({ url: server.url, token: wrong });
    try {
      for (const call of [
        () => bad.listKernelspecs() as Promise<unknown>,
        () => bad.startKernel(START),
        () => bad.execute(kernelId, { code: '1', onOutput: () => {} }),
      ]) {
        const { error } = await timed(call());
        expect(error).toBeInstanceOf(GatewayUnavailableError);
        const message = (error as Error).message;
        expect(message).toMatch(/token/);
        expect(message).toContain(`jupyter gateway at ${server.url}`);
        expect(message).not.toContain(wrong);
        expect(message).not.toContain(server.token);
      }
    } finally {
      await bad.close();
    }
  });

  it('never puts the token in a URL: the server log has the requests but not the token', async () => {
    const { id } = await gateway.startKernel(START);
    await gateway.interrupt(id);
    expect(await value(gateway, id, '6 * 7')).toBe('42');
    await gateway.shutdown(id);
    // The server writes its access log line after the response: wait for the last one.
    await expect.poll(() => server.log(), { timeout: 10_000 }).toMatch(new RegExp(`204 DELETE /api/kernels/${id} `));
    const log = server.log();
    expect(log).toMatch(/201 POST \/api\/kernels /);
    expect(log).toMatch(/101 GET \/api\/kernels\/[0-9a-f-]+\/channels\?session_id=[0-9a-f-]+ /);
    expect(log).toMatch(/204 POST \/api\/kernels\/[0-9a-f-]+\/interrupt /);
    expect(log).toMatch(/204 DELETE \/api\/kernels\/[0-9a-f-]+ /);
    expect(log).not.toContain(server.token);
    const requestLines = server.log().split('\n').filter((l) => /\d{3} (GET|POST|DELETE|PATCH|PUT) \//.test(l));
    expect(requestLines.length).toBeGreaterThan(5);
    expect(requestLines.filter((l) => l.includes(server.token))).toEqual([]);
    expect(gateway.description).toBe(`jupyter gateway at ${server.url}`);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.filter((l) => l.includes(server.token))).toEqual([]);
  });
});

describe.skipIf(!JUPYTER_SERVER)('jupyter gateway when the gateway fails', () => {
  let hanging: Server;
  let hangingUrl: string;
  const upgraded: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and requests (WebSocket upgrades too) and never answers.
    hanging = createServer(() => {});
    hanging.on('upgrade', (_req, socket: Socket) => upgraded.push(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', () => resolve()));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    for (const socket of upgraded) socket.destroy();
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
  });

  it('fails fast with GatewayUnavailableError naming the gateway when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const down = new JupyterGateway({ url, token: 'secret-token-value' });
    for (const call of [
      () => down.listKernelspecs() as Promise<unknown>,
      () => down.startKernel(START),
      () => down.execute(randomUUID(), { code: '1', onOutput: () => {} }),
      () => down.interrupt(randomUUID()),
    ]) {
      const { error, ms } = await timed(call());
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect((error as Error).message).toContain(`jupyter gateway at ${url}`);
      expect((error as Error).message).not.toContain('secret-token-value');
      expect(ms).toBeLessThan(2_000);
    }
    await down.close();
  });

  it('gives up on a gateway that does not answer after requestTimeoutMs, on REST and on the WebSocket', async () => {
    const slow = new JupyterGateway({ url: hangingUrl, token: 't', requestTimeoutMs: 500, kernelTimeoutMs: 800 });
    for (const [call, bound] of [
      [() => slow.listKernelspecs() as Promise<unknown>, 500],
      [() => slow.interrupt(randomUUID()), 500],
      [() => slow.execute(randomUUID(), { code: '1', onOutput: () => {} }), 500],
      [() => slow.startKernel(START), 800],
    ] as const) {
      const { error, ms } = await timed(call());
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect((error as Error).message).toMatch(/within \d+ ms/);
      expect(ms).toBeGreaterThanOrEqual(bound - 50);
      expect(ms).toBeLessThan(bound + 3_000);
    }
    const { ms } = await timed(slow.close());
    expect(ms).toBeLessThan(3_000);
  });

  it('rejects the run in progress with KernelDisconnectedError when the gateway is killed', async () => {
    const doomed = await startJupyterServer();
    const gateway = new JupyterGateway({ url: doomed.url, token: doomed.token });
    try {
      const { id } = await gateway.startKernel(START);
      const { started, done } = runInBackground(gateway, id, SLEEP(60));
      await started;
      await doomed.stop('SIGKILL');
      const { error, ms } = await timed(done);
      expect(error).toBeInstanceOf(KernelDisconnectedError);
      expect((error as Error).message).toContain(`jupyter gateway at ${doomed.url}`);
      expect(ms).toBeLessThan(5_000);
      // Later calls try a new connection and find the gateway down.
      const later = await timed(gateway.execute(id, { code: '1', onOutput: () => {} }));
      expect(later.error).toBeInstanceOf(GatewayUnavailableError);
      expect(later.ms).toBeLessThan(2_000);
      const closing = await timed(gateway.close());
      expect(closing.ms).toBeLessThan(3_000);
    } finally {
      await gateway.close();
      await doomed.stop('SIGKILL');
    }
  });
});
