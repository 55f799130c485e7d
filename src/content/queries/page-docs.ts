import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { pages } from '../../db/schema.js';
import type { ContentVersion } from '../content-version.js';
import type { PageDoc } from '../page-document.js';
import type { Version } from './page-fields.js';

export interface VisibleDoc {
  id: number;
  doc: PageDoc;
}

/**
 * A page's document as `version` shows it, for code that needs one page's content and
 * nothing else (running a block). Live documents are kept in memory until the live site
 * changes anywhere (ContentVersion), so a learner's Run does not read the page again;
 * drafts change on every save and are always read.
 */
export class PageDocs {
  private readonly live = new Map<number, VisibleDoc | null>();

  constructor(private readonly db: Db, private readonly version: ContentVersion, private readonly maxEntries = 2_000) {
    version.onChange(() => this.live.clear());
  }

  async get(id: number, version: Version): Promise<VisibleDoc | undefined> {
    if (version === 'draft') return this.read(id, 'draft');
    if (this.live.has(id)) return this.live.get(id) ?? undefined;
    const generation = this.version.generation;
    const found = await this.read(id, 'live');
    // A document read while the live site changed may be the old one: do not keep it.
    if (generation === this.version.generation) {
      if (this.live.size >= this.maxEntries) this.live.delete(this.live.keys().next().value!);
      this.live.set(id, found ?? null);
    }
    return found;
  }

  private async read(id: number, version: Version): Promise<VisibleDoc | undefined> {
    const column = version === 'live' ? pages.liveContent : pages.draft;
    const [row] = await this.db.select({ id: pages.id, doc: column }).from(pages)
      .where(version === 'live' ? and(eq(pages.id, id), eq(pages.live, true)) : eq(pages.id, id)).limit(1);
    return row?.doc ? { id: row.id, doc: row.doc as PageDoc } : undefined;
  }
}
