import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { executeRequest } from '../src/kernels/jupyter/jupyter-messages.js';
import { startJupyterServer } from '../test/helpers/jupyter-server.js';
import { api, UnexpectedStatusError, type ApiClient } from './http.js';
import { percentile } from './saves.js';
import { ServerProcess } from './server-process.js';

export interface KernelBenchResult {
  runs: number;
  /** A bare WebSocket client that acknowledges each burst of frames at once, as the CMS's adapter does. */
  direct: { p50: number; p99: number };
  /** A naive bare WebSocket client: each run waits out a delayed ACK against the server's Nagle. */
  directNaive: { p50: number; p99: number };
  viaCms: { p50: number; p99: number };
  learners: number;
  cellsPerLearner: number;
  /** Each learner's time for all their cells (the first includes starting their kernel). */
  perLearnerMs: number[];
  /** Warm cells (not a learner's first) through the CMS under that load. */
  warmCell: { p50: number; p99: number };
  failures: number;
  wallMs: number;
}

const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { p50: percentile(s, 50), p99: percentile(s, 99) }; };

/**
 * Runs `1 + 1` on a kernel over a bare WebSocket: what talking to the gateway directly
 * costs. `quickAck` answers each burst of frames with an unsolicited pong, as the CMS's
 * adapter does (src/kernels/jupyter/kernel-connection.ts says why).
 */
async function directRuns(url: string, token: string, runs: number, quickAck: boolean): Promise<number[]> {
  const headers = { authorization: `token ${token}`, 'content-type': 'application/json' };
  const kernel = await (await fetch(`${url}/api/kernels`, { method: 'POST', headers, body: JSON.stringify({ name: 'python3' }) })).json() as { id: string };
  const session = randomUUID();
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/kernels/${kernel.id}/channels?session_id=${session}`, { headers });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const once = (code: string) => new Promise<void>((resolve) => {
    const msg = executeRequest(code, session, 'bench');
    let reply = false;
    let idle = false;
    const onMessage = (raw: WebSocket.RawData) => {
      if (quickAck) ws.pong();
      const m = JSON.parse(String(raw)) as { parent_header?: { msg_id?: string }; msg_type?: string; header?: { msg_type?: string }; content?: { execution_state?: string } };
      if (m.parent_header?.msg_id !== msg.header.msg_id) return;
      const type = m.header?.msg_type ?? m.msg_type;
      if (type === 'execute_reply') reply = true;
      if (type === 'status' && m.content?.execution_state === 'idle') idle = true;
      if (reply && idle) { ws.off('message', onMessage); resolve(); }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(msg));
  });
  for (let i = 0; i < 20; i++) await once('1 + 1'); // warm
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once('1 + 1');
    ms.push(performance.now() - t);
  }
  ws.close();
  await fetch(`${url}/api/kernels/${kernel.id}`, { method: 'DELETE', headers });
  return ms;
}

/**
 * The kernel workloads of issue 4, against a real Jupyter Server: what the CMS adds to
 * an execution over talking to the gateway directly, and 20 learners running cells at
 * once (all complete, none starved).
 */
export async function runKernelBench(opts: { runs: number; learners: number; cells: number }, register: (s: ServerProcess) => void, log: (line: string) => void): Promise<KernelBenchResult> {
  const jupyter = await startJupyterServer();
  try {
    log(`  Jupyter Server at ${jupyter.url}`);
    const directNaive = await directRuns(jupyter.url, jupyter.token, opts.runs, false);
    const direct = await directRuns(jupyter.url, jupyter.token, opts.runs, true);
    const server = new ServerProcess();
    register(server);
    await server.start({
      databaseUrl: null,
      env: {
        KERNEL_GATEWAY: 'jupyter', KERNEL_GATEWAY_URL: jupyter.url, KERNEL_GATEWAY_TOKEN: jupyter.token,
        MAX_KERNELS: String(opts.learners + 4), RUNS_PER_MINUTE: '100000', EXECUTION_TIMEOUT_MS: '120000',
      },
    });
    const admin: ApiClient = { baseUrl: server.baseUrl, token: server.adminToken };
    const page = await api<{ id: number; body: { id: string }[] }>(admin, 'POST', '/api/v2/pages/', {
      expected: 201, body: { type: 'lesson', title: 'Kernel bench', publish: true, body: [{ type: 'jupyter', value: { code: '1 + 1' } }, { type: 'jupyter', value: { code: 'sum(i * i for i in range(300000))' } }] },
    });
    const learners: ApiClient[] = [];
    for (let i = 0; i < opts.learners; i++) {
      const t = await api<{ token: string }>(admin, 'POST', '/api/v2/tokens/', { expected: 201, body: { name: `Bench learner ${i + 1}`, role: 'learner' } });
      learners.push({ baseUrl: server.baseUrl, token: t.token });
    }
    const execute = async (client: ApiClient, cell: number) => {
      const e = await api<{ status: string }>(client, 'POST', `/api/v2/pages/${page.id}/blocks/${page.body[cell]!.id}/execute/?wait=true`, { expected: 200, body: {} });
      if (e.status !== 'ok') throw new UnexpectedStatusError(`an execution ended ${e.status}`);
    };
    for (let i = 0; i < 20; i++) await execute(learners[0]!, 0); // warm: the kernel exists
    const viaCms: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const t = performance.now();
      await execute(learners[0]!, 0);
      viaCms.push(performance.now() - t);
    }
    const d = stats(direct);
    const dn = stats(directNaive);
    const c = stats(viaCms);
    log(`  1 + 1, ${opts.runs} sequential runs: naive direct WebSocket p50 ${dn.p50.toFixed(2)} ms p99 ${dn.p99.toFixed(2)} ms`);
    log(`  1 + 1, ${opts.runs} sequential runs: direct WebSocket p50 ${d.p50.toFixed(2)} ms p99 ${d.p99.toFixed(2)} ms; through the CMS p50 ${c.p50.toFixed(2)} ms p99 ${c.p99.toFixed(2)} ms; added p50 ${(c.p50 - d.p50).toFixed(2)} ms`);

    log(`  ${opts.learners} learners × ${opts.cells} cells at once…`);
    const warm: number[] = [];
    let failures = 0;
    const started = performance.now();
    const perLearnerMs = await Promise.all(learners.map(async (client) => {
      const t0 = performance.now();
      for (let i = 0; i < opts.cells; i++) {
        const t = performance.now();
        try {
          await execute(client, 1);
          if (i > 0) warm.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
      return performance.now() - t0;
    }));
    const wallMs = performance.now() - started;
    const sorted = [...perLearnerMs].sort((a, b) => a - b);
    log(`  all done in ${(wallMs / 1000).toFixed(1)} s; per learner min ${(sorted[0]! / 1000).toFixed(1)} s, median ${(percentile(sorted, 50) / 1000).toFixed(1)} s, max ${(sorted.at(-1)! / 1000).toFixed(1)} s; failures ${failures}`);
    await server.stop();
    return { runs: opts.runs, direct: d, directNaive: dn, viaCms: c, learners: opts.learners, cellsPerLearner: opts.cells, perLearnerMs, warmCell: stats(warm), failures, wallMs };
  } finally {
    await jupyter.stop();
  }
}
