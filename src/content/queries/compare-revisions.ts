import type { BlockRegistry } from '../../blocks/block-registry.js';
import type { Db } from '../../db/client.js';
import { Errors } from '../../errors.js';
import type { PageCompare, RevisionRef } from '../../generated/schema-types.js';
import { comparePages } from '../../history/diff/compare-pages.js';
import { unifiedPatch } from '../../history/diff/unified-patch.js';
import { pageFile, type GitRepo } from '../../history/git-repo.js';
import type { PageDoc } from '../page-document.js';
import { getRevisionRow, type PageRow, type RevisionRow } from '../page-store.js';
import type { PageTypeRegistry } from '../page-types.js';

interface LoadedRevision {
  row: RevisionRow;
  text: string;
  doc: PageDoc;
}

export interface RevisionPair {
  from: LoadedRevision;
  to: LoadedRevision;
}

/**
 * Two revisions of a page, older first whichever order they were asked in: a compare
 * always reads from the older revision to the newer one. Each is one blob read by id.
 */
export async function loadRevisionPair(db: Db, repo: GitRepo, page: PageRow, a: number, b: number): Promise<RevisionPair> {
  const load = async (id: number): Promise<LoadedRevision> => {
    const row = await getRevisionRow(db, page.id, id);
    if (!row?.blob) throw Errors.revisionNotFound([id, page.id]);
    const text = await repo.readBlob(row.blob);
    return { row, text, doc: JSON.parse(text) as PageDoc };
  };
  const [x, y] = await Promise.all([load(a), load(b)]);
  return x.row.id <= y.row.id ? { from: x, to: y } : { from: y, to: x };
}

const revisionRef = (r: RevisionRow): RevisionRef => ({
  revision: r.id, commit: r.commit, author: r.authorName, created_at: r.createdAt.toISOString(), message: r.message,
});

/** The block-level compare of DESIGN.md §5. */
export function comparePair(blocks: BlockRegistry, types: PageTypeRegistry, page: PageRow, pair: RevisionPair): PageCompare {
  const diff = comparePages({ registry: blocks, type: types.get(page.type), from: pair.from.doc, to: pair.to.doc });
  return { page: page.id, from: revisionRef(pair.from.row), to: revisionRef(pair.to.row), ...diff };
}

/** The page file's unified diff between the two commits, as `git diff` prints it. */
export function patchOfPair(page: PageRow, pair: RevisionPair): string {
  return unifiedPatch({ path: pageFile(page.id), fromText: pair.from.text, toText: pair.to.text, fromBlob: pair.from.row.blob, toBlob: pair.to.row.blob });
}
