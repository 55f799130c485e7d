import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JUPYTER_SERVER } from './env.js';
import { freePort } from './server-process.js';

export interface JupyterServer {
  url: string;
  token: string;
  pid: number;
  /** Everything the server logged so far (it runs with --debug, so every request URL is there). */
  log(): string;
  /** The server's kernel processes and anything else it started. */
  descendants(): number[];
  /** Stops the server and every process it started; SIGKILL models a gateway that crashes. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a real Jupyter Server on a free port with a random token and its own Jupyter
 * directories, so test files running in parallel share nothing. The token is passed in
 * JUPYTER_TOKEN, not on the command line, where `ps` would show it.
 */
export async function startJupyterServer(timeoutMs = 90_000): Promise<JupyterServer> {
  if (!JUPYTER_SERVER) throw new Error('no jupyter-server (see test/helpers/env.ts)');
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(JUPYTER_SERVER, timeoutMs);
    } catch (err) {
      // Another process may take the free port between freePort() and the server's bind.
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

async function startOnce(executable: string, timeoutMs: number): Promise<JupyterServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-jupyter-'));
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const proc = spawn(executable, [
    '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0', '--no-browser', '--allow-root', '--debug',
    `--ServerApp.root_dir=${dir}`,
  ], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      LANG: 'C.UTF-8',
      JUPYTER_TOKEN: token,
      JUPYTER_CONFIG_DIR: join(dir, 'config'),
      JUPYTER_DATA_DIR: join(dir, 'data'),
      JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
      IPYTHONDIR: join(dir, 'ipython'),
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`jupyter-server exited with ${proc.exitCode ?? proc.signalCode}:\n${out}`);
    }
    try {
      const res = await fetch(`${url}/api/kernelspecs`, { headers: { authorization: `token ${token}` }, signal: AbortSignal.timeout(5_000) });
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await kill(proc, exited, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`jupyter-server not ready after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  let stopped = false;
  return {
    url,
    token,
    pid: proc.pid!,
    log: () => out,
    descendants: () => descendants(proc.pid!),
    async stop(signal = 'SIGTERM') {
      if (stopped) return;
      stopped = true;
      const children = descendants(proc.pid!);
      await kill(proc, exited, signal);
      for (const pid of children) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function kill(proc: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Every process below `root`, read from /proc (Linux). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try { entries = readdirSync('/proc'); } catch { return []; }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The fields after the command name (which may hold spaces) start with state, ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch { /* exited meanwhile */ }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP and WebSocket proxy in front of `target` that records every request it passes
 * on. `stallUpgrades` WebSocket handshakes are recorded but never answered, as Jupyter
 * Server does with a kernel that missed its kernel_info_request.
 */
export async function startRecordingProxy(target: string, opts: { stallUpgrades?: number } = {}): Promise<RecordingProxy> {
  let stall = opts.stallUpgrades ?? 0;
  const to = new URL(target);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      upstream.on('error', () => { res.writeHead(502).end(); });
      upstream.end(body);
    });
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    sockets.add(socket);
    if (stall > 0) {
      stall--;
      socket.on('error', () => {});
      return;
    }
    const upstream = connect(Number(to.port), to.hostname, () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      upstream.write(`${raw}\r\n`);
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    sockets.add(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
