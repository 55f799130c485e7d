import { Errors } from '../../errors.js';
import type { ContentContext } from '../content-context.js';
import type { PageDoc } from '../page-document.js';
import { getVisiblePage } from '../queries/list-pages.js';
import type { Version } from '../queries/page-fields.js';
import { exportNotebook } from './export-notebook.js';
import { serializeNotebook } from './nbformat.js';

export interface PageNotebook {
  /** The .ipynb file's text. */
  text: string;
  slug: string;
  revision: number;
}

/**
 * A page's live (or draft) version as a notebook file. Pages that are not visible in
 * that version, and pages without a `body` stream (a course index), are not found, as
 * in the detail view.
 */
export async function pageNotebook(ctx: ContentContext, id: number, version: Version, opts: { origin?: string } = {}): Promise<PageNotebook> {
  const row = await getVisiblePage(ctx.database.db, id, version);
  const type = row ? ctx.types.get(row.type) : undefined;
  const body = type?.fieldsByName.get('body');
  if (!row || !body || ctx.blocks.resolve(body.spec).kind !== 'stream') throw Errors.pageNotFound();
  const doc = (version === 'live' ? row.liveContent : row.draft) as PageDoc;
  const revision = (version === 'live' ? row.liveRevisionId : row.latestRevisionId)!;
  return { text: serializeNotebook(exportNotebook(doc, { revision, origin: opts.origin })), slug: doc.slug, revision };
}
