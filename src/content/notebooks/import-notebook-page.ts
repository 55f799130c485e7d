import { Errors, isCmsError, type FieldError } from '../../errors.js';
import type { Actor, ContentContext } from '../content-context.js';
import { createPage } from '../operations/create-page.js';
import type { PageRow } from '../page-store.js';
import { importNotebook, notebookPointer } from './import-notebook.js';

export interface NotebookUpload {
  /** The notebook file's text. */
  text: string;
  filename?: string;
  parent?: number | null;
  /** The page type (default lesson); it must have a `body` stream. */
  type?: string;
  title?: string;
  publish?: boolean;
  /** The commit message (default "Import notebook <file>"). */
  message?: string;
}

export interface ImportedPage {
  row: PageRow;
  /** What the page could not keep, with pointers into the notebook. */
  warnings: FieldError[];
}

/**
 * Creates a page from a notebook through createPage, so validation, sanitizing, slugs,
 * the git commit and publishing apply as to any page. Validation errors point into the
 * notebook (`/cells/6/source`), not into the payload the notebook became.
 */
export async function importNotebookPage(ctx: ContentContext, actor: Actor, upload: NotebookUpload): Promise<ImportedPage> {
  const imported = importNotebook(upload.text, { filename: upload.filename, title: upload.title, type: upload.type });
  const type = ctx.types.get(imported.payload.type);
  const body = type?.fieldsByName.get('body');
  if (type && !(body && ctx.blocks.resolve(body.spec).kind === 'stream')) {
    throw Errors.validation([`/type ${type.name} pages have no body for a notebook's cells`], {
      errors: [{ path: '/type', message: `${type.name} pages have no body for a notebook's cells` }],
    });
  }
  const input = {
    ...imported.payload,
    ...(upload.parent !== undefined ? { parent: upload.parent } : {}),
    publish: upload.publish ?? false,
    message: upload.message ?? `Import notebook ${upload.filename ?? imported.payload.title}`,
  };
  try {
    return { row: await createPage(ctx, actor, input), warnings: imported.warnings };
  } catch (err) {
    if (!isCmsError(err) || err.code !== Errors.validation.code || !err.errors) throw err;
    const errors = err.errors.map((e) => ({ path: notebookPointer(imported, e.path), message: e.message }));
    throw Errors.validation([errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')], { errors });
  }
}
