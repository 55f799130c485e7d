import { and, eq, isNotNull, lte } from 'drizzle-orm';
import { pages } from '../db/schema.js';
import type { Actor, ContentContext } from './content-context.js';
import { publishRevision, unpublishRow } from './operations/publish-page.js';
import { getPageRow } from './page-store.js';

/** The author of what the scheduler does, in git and in the revision index. */
export const SCHEDULER: Actor = { name: 'Lectern scheduler', email: 'scheduler@lectern.invalid', tokenId: null };

/**
 * Publishes scheduled revisions when their `go_live_at` comes and unpublishes pages when
 * their `expire_at` comes, on the content clock (`ctx.now`). Every process may run one:
 * each page is re-checked under the writer lock, so a second scheduler finds nothing to do.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly ctx: ContentContext, private readonly intervalMs: number, private readonly log: (err: unknown) => void = () => {}) {}

  /** Does what is due now; returns the pages it published and unpublished. */
  async runDue(): Promise<{ published: number[]; expired: number[] }> {
    const { ctx } = this;
    const now = ctx.now();
    const db = ctx.database.db;
    const published: number[] = [];
    const expired: number[] = [];
    const due = await db.select({ id: pages.id }).from(pages).where(and(isNotNull(pages.goLiveAt), lte(pages.goLiveAt, now)));
    for (const { id } of due) {
      const done = await ctx.revisions.write(async (session) => {
        const row = await getPageRow(session.db, id);
        if (!row?.goLiveAt || row.goLiveAt > ctx.now() || row.scheduledRevisionId === null) return false;
        await publishRevision(ctx, session, SCHEDULER, row, row.scheduledRevisionId, {
          message: `Publish revision ${row.scheduledRevisionId} as scheduled for ${row.goLiveAt.toISOString()}`, expireAt: row.expireAt,
        });
        return true;
      }, ctx.onLiveChange);
      if (done) published.push(id);
    }
    const ending = await db.select({ id: pages.id }).from(pages).where(and(eq(pages.live, true), isNotNull(pages.expireAt), lte(pages.expireAt, ctx.now())));
    for (const { id } of ending) {
      const done = await ctx.revisions.write(async (session) => {
        const row = await getPageRow(session.db, id);
        if (!row?.live || !row.expireAt || row.expireAt > ctx.now()) return false;
        await unpublishRow(ctx, session, SCHEDULER, row, `Unpublish as scheduled for ${row.expireAt.toISOString()}`);
        return true;
      }, ctx.onLiveChange);
      if (done) expired.push(id);
    }
    return { published, expired };
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow round is still going
      this.running = this.runDue().catch(this.log).finally(() => { this.running = null; });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
