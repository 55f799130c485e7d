import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { ContentEvent, ContentEventType } from '../events/content-event.js';
import { ancestorsOfPath } from '../db/tree-path.js';
import { LOCKS, type Database, type Db } from '../db/client.js';
import { gitRefs, liveVersion } from '../db/schema.js';
import type { CommitInput, GitRepo } from './git-repo.js';

export type Branch = 'main' | 'live';

export const BRANCHES: readonly Branch[] = ['main', 'live'];
export type Heads = Record<Branch, string | null>;

/** The channel on which every process hears that the live site changed (payload: the live version). */
export const CONTENT_CHANNEL = 'lectern_content';

export async function readHeads(db: Db): Promise<Heads> {
  const rows = await db.select().from(gitRefs);
  const heads: Heads = { main: null, live: null };
  for (const r of rows) if (r.name === 'main' || r.name === 'live') heads[r.name] = r.commit;
  return heads;
}

export async function readLiveVersion(db: Db): Promise<number> {
  const [row] = await db.select({ version: liveVersion.version }).from(liveVersion).where(eq(liveVersion.id, 1));
  return row?.version ?? 0;
}

/**
 * Says that something public readers see changed (a publish, a moved page, a deleted
 * image): increments the live version and tells every process, whose read caches then
 * drop what they hold. Run it inside the transaction of the change.
 */
export async function bumpLiveVersion(db: Db): Promise<number> {
  const [row] = await db.insert(liveVersion).values({ id: 1, version: 1 })
    .onConflictDoUpdate({ target: liveVersion.id, set: { version: sql`${liveVersion.version} + 1` } })
    .returning({ version: liveVersion.version });
  await db.execute(sql`select pg_notify(${CONTENT_CHANNEL}, ${String(row!.version)})`);
  return row!.version;
}

/**
 * One write: commits on the branches, then one database transaction, then the ref moves.
 * Obtained from RevisionStore.write, which holds the writer lock for its whole life, so
 * the heads read at its start stay the heads until it ends.
 */
export class WriteSession {
  private readonly moved = new Set<Branch>();
  private committed = false;
  private structural = false;
  /** The live version this write produced; null when public readers cannot notice it. */
  liveVersion: number | null = null;
  /** What the write did, told to listeners once it is durable. */
  readonly events: ContentEvent[] = [];

  constructor(readonly db: Db, readonly repo: GitRepo, readonly heads: Heads, private readonly outboxes: ReadonlySet<Outbox> = new Set()) {}

  /** Writes a commit on top of `branch` (objects only) and makes it the branch's new head. */
  async commit(branch: Branch, input: Omit<CommitInput, 'parent'>): Promise<string> {
    if (this.committed) throw new Error('commit after the transaction');
    const oid = await this.repo.writeCommit({ ...input, parent: this.heads[branch] });
    this.heads[branch] = oid;
    this.moved.add(branch);
    return oid;
  }

  /**
   * Records what this write does to a page, for listeners after the write is durable.
   * `path` is the page's tree path (its ancestors' segments, then its own).
   */
  event(type: ContentEventType, page: { id: number; path: string }, revision: number | null, actor: string, at: Date): void {
    this.events.push({ id: randomUUID(), type, page: page.id, ancestors: ancestorsOfPath(page.path), revision, actor, at: at.toISOString() });
  }

  /** Says that public readers can notice this write although `live` may not move (URL paths changed). */
  markPublicChange(): void {
    this.structural = true;
  }

  /**
   * Runs the database side of the write in one transaction, recording where the moved
   * branches now point and, when public readers can notice the write, bumping the live
   * version and telling every process.
   */
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(async (tx) => {
      const value = await fn(tx as unknown as Db);
      // What the write did is recorded with it (webhook deliveries): committed together or not at all.
      if (this.events.length) for (const outbox of this.outboxes) await outbox(tx as unknown as Db, this.events);
      for (const branch of this.moved) {
        const commit = this.heads[branch]!;
        await tx.insert(gitRefs).values({ name: branch, commit })
          .onConflictDoUpdate({ target: gitRefs.name, set: { commit } });
      }
      if (this.moved.has('live') || this.structural) this.liveVersion = await bumpLiveVersion(tx);
      return value;
    });
    this.committed = true;
    return result;
  }

  /** Moves the refs of the branches this session committed to; after the transaction. */
  async moveRefs(): Promise<Branch[]> {
    if (!this.committed) return [];
    const moved = [...this.moved];
    for (const branch of moved) await this.repo.moveRef(branch, this.heads[branch]!);
    return moved;
  }
}

/**
 * The only way content is written. Writers take turns (in-process, then a Postgres
 * advisory lock across processes); git objects are written first, the database rows
 * (and the branch heads) commit next, the refs move last. A crash between the last two
 * leaves a ref behind the database, which `repairRefs` fixes at start.
 */
/** Writes rows about a write's events inside its transaction (see RevisionStore.addOutbox). */
export type Outbox = (tx: Db, events: ContentEvent[]) => Promise<void>;

export class RevisionStore {
  private readonly listeners = new Set<(events: ContentEvent[]) => void>();
  private readonly outboxes = new Set<Outbox>();

  constructor(private readonly database: Database, readonly repo: GitRepo) {}

  /**
   * Runs `outbox` inside every write's database transaction that has events, after the
   * write's own rows: what it records commits with the write, or not at all.
   */
  addOutbox(outbox: Outbox): void {
    this.outboxes.add(outbox);
  }

  /** Hears the events of every write made through this store (in this process), once durable. */
  onEvents(fn: (events: ContentEvent[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** `onLiveChange` hears the new live version, in this process, before the write returns. */
  async write<T>(fn: (session: WriteSession) => Promise<T>, onLiveChange?: (version: number) => void): Promise<T> {
    const session = await this.database.exclusive(LOCKS.writer, async (db) => {
      const s = new WriteSession(db, this.repo, await readHeads(db), this.outboxes);
      const result = await fn(s);
      await s.moveRefs();
      if (s.liveVersion !== null) onLiveChange?.(s.liveVersion);
      return { s, result };
    });
    // Outside the writer lock: a slow listener never holds up the next save, and a failing
    // one never fails this one.
    if (session.s.events.length) {
      for (const fn of this.listeners) {
        try {
          fn(session.s.events);
        } catch { /* listeners report their own failures */ }
      }
    }
    return session.result;
  }

  /** Points every git ref at the commit the database recorded. Returns what it fixed. */
  async repairRefs(): Promise<string[]> {
    return this.database.exclusive(LOCKS.writer, async (db) => {
      const fixed: string[] = [];
      const heads = await readHeads(db);
      for (const branch of BRANCHES) {
        const want = heads[branch];
        if (!want) continue;
        const have = await this.repo.readRef(branch);
        if (have === want) continue;
        if (!(await this.repo.hasObject(want))) {
          throw new Error(`database says ${branch} is at ${want}, but the repository has no such commit`);
        }
        await this.repo.moveRef(branch, want);
        fixed.push(`${branch}: ${have ?? '(none)'} -> ${want}`);
      }
      return fixed;
    });
  }
}
