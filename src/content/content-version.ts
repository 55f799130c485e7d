import type { Database } from '../db/client.js';
import { CONTENT_CHANNEL, headsToken, readHeads, type Heads } from '../history/revision-store.js';

/**
 * Knows when content changed in any process sharing the database: the writing process
 * tells it at once, other processes hear a NOTIFY, and a poll of the branch heads
 * catches whatever a lost connection missed. `generation` increases on every change;
 * caches keyed on it never serve content older than the last change they heard of.
 */
export class ContentVersion {
  private token: string | null = null;
  private gen = 0;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly database: Database, private readonly pollMs: number) {}

  get generation(): number {
    return this.gen;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Records a (possibly) new version; returns whether it was new. */
  observe(token: string): boolean {
    if (token === this.token) return false;
    this.token = token;
    this.gen++;
    for (const fn of this.listeners) fn();
    return true;
  }

  observeHeads(heads: Heads): void {
    this.observe(headsToken(heads));
  }

  async poll(): Promise<void> {
    this.observeHeads(await readHeads(this.database.db));
  }

  async start(): Promise<void> {
    await this.poll();
    // PGlite lives in one process: nobody else can write, so there is nothing to hear.
    if (this.database.kind === 'postgres') {
      this.unlisten = await this.database.listen(CONTENT_CHANNEL, (payload) => this.observe(payload));
      this.timer = setInterval(() => { this.poll().catch(() => {}); }, this.pollMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unlisten?.();
    this.unlisten = null;
  }
}
