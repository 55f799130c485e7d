import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { blockChanges, revisions } from '../../db/schema.js';

export interface BlockHistoryEntry {
  revision: number;
  op: string;
  moved: boolean;
  type: string;
  field: string;
  parent_block_id: string | null;
  author: string;
  created_at: Date;
  message: string;
  commit: string;
}

/**
 * The revisions that added, changed, moved or removed one block of a page, newest first
 * ("who last touched this cell"), from the block_changes index: git is not walked.
 */
export async function listBlockHistory(db: Db, pageId: number, blockId: string, limit: number, offset: number): Promise<{ total: number; items: BlockHistoryEntry[] }> {
  const where = and(eq(blockChanges.pageId, pageId), eq(blockChanges.blockId, blockId));
  const [rows, [counted]] = await Promise.all([
    db.select({
      revision: blockChanges.revisionId,
      op: blockChanges.op,
      moved: blockChanges.moved,
      type: blockChanges.blockType,
      field: blockChanges.field,
      parent_block_id: blockChanges.parentBlockId,
      author: blockChanges.authorName,
      created_at: blockChanges.createdAt,
      message: revisions.message,
      commit: revisions.commit,
    }).from(blockChanges).innerJoin(revisions, eq(revisions.id, blockChanges.revisionId))
      .where(where).orderBy(desc(blockChanges.revisionId)).limit(limit).offset(offset),
    db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(blockChanges).where(where),
  ]);
  return { total: counted?.n ?? 0, items: rows };
}
