import type { Database } from '../db/client.js';
import { CONTENT_CHANNEL, readLiveVersion } from '../history/revision-store.js';

/**
 * Knows when the live site changed in any process sharing the database: the writing
 * process tells it at once, other processes hear a NOTIFY, and a poll of the live
 * version catches whatever a lost connection missed. `generation` increases on every
 * change; caches keyed on it never serve content older than the last change they heard
 * of. Draft saves do not change the live version, so they leave public caches warm.
 */
export class ContentVersion {
  private version: number | null = null;
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

  /** Records a live version; returns whether it was newer than the last one seen. */
  observe(version: number): boolean {
    if (this.version !== null && version <= this.version) return false;
    this.version = version;
    this.gen++;
    for (const fn of this.listeners) fn();
    return true;
  }

  async poll(): Promise<void> {
    this.observe(await readLiveVersion(this.database.db));
  }

  async start(): Promise<void> {
    await this.poll();
    // PGlite lives in one process: nobody else can write, so there is nothing to hear.
    if (this.database.kind === 'postgres') {
      this.unlisten = await this.database.listen(CONTENT_CHANNEL, (payload) => {
        const v = Number(payload);
        if (Number.isSafeInteger(v)) this.observe(v);
      });
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
