import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { UsageError } from './usage-error.js';

/** `lectern import`: notebooks into lessons, through the HTTP API of a running server. */

/** The notebooks named on the command line: files as given, folders walked (dot folders such as .ipynb_checkpoints skipped). */
async function notebookFiles(paths: string[]): Promise<{ path: string; label: string }[]> {
  const found = new Map<string, string>();
  const walk = async (dir: string, root: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    // Natural order, so lesson-2 comes before lesson-10 (pages are created in this order).
    entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full, root);
      else if (e.isFile() && e.name.endsWith('.ipynb')) found.set(resolve(full), join(basename(root), relative(root, full)));
    }
  };
  for (const p of paths) {
    const info = await stat(p).catch(() => null);
    if (!info) throw new UsageError(`no such file or folder: ${p}`);
    if (info.isDirectory()) await walk(p, resolve(p));
    else found.set(resolve(p), p);
  }
  return [...found].map(([path, label]) => ({ path, label }));
}

/** A progress bar on a terminal, plain lines elsewhere (logs, CI). */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  constructor(private readonly total: number) {}

  step(done: number, label: string): void {
    if (!this.tty) return;
    const width = 20;
    const filled = Math.round((done / this.total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${label}`;
    process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 80) - 1)}`);
  }

  report(index: number, label: string, outcome: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    if (!this.tty || outcome.startsWith('failed')) process.stderr.write(`[${index}/${this.total}] ${label}: ${outcome}\n`);
  }

  end(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}

/** The server's error body as lines: its message, then each {path, message}. */
function describeFailure(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; errors?: { path: string; message: string }[] };
    const errors = body.errors ?? [];
    // "not a Jupyter notebook: <what>" already says what its one error says: add only where.
    const repeated = errors.length === 1 && body.message?.endsWith(errors[0]!.message);
    if (repeated) return `${status} ${body.message}${errors[0]!.path ? ` (at ${errors[0]!.path})` : ''}`;
    return `${status} ${body.message ?? ''}${errors.map((e) => `\n    ${e.path || '/'}: ${e.message}`).join('')}`;
  } catch {
    return `${status} ${text.slice(0, 200)}`;
  }
}

/** Imports notebooks through `POST /api/v2/pages/import/` of a running server. */
export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      token: { type: 'string' },
      parent: { type: 'string' },
      type: { type: 'string' },
      publish: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('import needs .ipynb files or folders');
  // The token is a credential, not configuration: the CLI reads it where the user put it.
  const token = values.token ?? loadConfig().cliToken ?? undefined;
  if (!token) throw new UsageError('import needs an editor or admin token: --token <token> or LECTERN_TOKEN');
  if (values.parent !== undefined && !/^[1-9][0-9]*$/.test(values.parent)) throw new UsageError('--parent must be a page id');
  let endpoint: URL;
  try {
    endpoint = new URL('api/v2/pages/import/', values.url.endsWith('/') ? values.url : `${values.url}/`);
  } catch {
    throw new UsageError(`--url is not a URL: ${values.url}`);
  }
  const files = await notebookFiles(positionals);
  if (files.length === 0) {
    process.stderr.write('lectern: no .ipynb files found\n');
    return 1;
  }

  const progress = new Progress(files.length);
  let created = 0;
  for (const [i, file] of files.entries()) {
    progress.step(i, file.label);
    const form = new FormData();
    form.set('file', new Blob([await readFile(file.path)], { type: 'application/x-ipynb+json' }), basename(file.path));
    if (values.parent !== undefined) form.set('parent', values.parent);
    if (values.type !== undefined) form.set('type', values.type);
    if (values.publish) form.set('publish', 'true');
    let res: Response;
    try {
      res = await fetch(endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    } catch (err) {
      progress.end();
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      process.stderr.write(`lectern: cannot reach ${endpoint.origin} (${cause}); is the server running?\n`);
      return 1;
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      // The same for every notebook: stop here.
      progress.end();
      process.stderr.write(`lectern: ${describeFailure(res.status, text)}\n`);
      return 1;
    }
    if (res.status !== 201) {
      progress.report(i + 1, file.label, `failed: ${describeFailure(res.status, text)}`);
      continue;
    }
    const page = JSON.parse(text) as { id: number; meta: { import_warnings?: { path: string; message: string }[] } };
    created++;
    const warnings = (page.meta.import_warnings ?? []).map((w) => `; ${w.path}: ${w.message}`).join('');
    progress.report(i + 1, file.label, `created page ${page.id}${warnings}`);
    process.stdout.write(`${page.id}\t${res.headers.get('location') ?? ''}\t${file.label}\n`);
  }
  progress.end();
  const failed = files.length - created;
  process.stderr.write(`Imported ${created} of ${files.length} ${files.length === 1 ? 'notebook' : 'notebooks'}${failed ? `; ${failed} failed` : ''}.\n`);
  return failed ? 1 : 0;
}
