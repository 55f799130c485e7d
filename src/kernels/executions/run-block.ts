import { findBlock } from '../../content/queries/find-block.js';
import type { Version } from '../../content/queries/page-fields.js';
import type { PageDocs } from '../../content/queries/page-docs.js';
import { Errors } from '../../errors.js';
import { DEFAULT_ENVIRONMENT } from '../environments.js';
import type { ExecutionService, Learner } from './execution-service.js';
import type { LiveExecution } from './live-execution.js';

export interface RunBlockInput {
  learner: Learner;
  /** Null when the id in the request was not a page id: a 404 like any missing page. */
  pageId: number | null;
  blockId: string;
  /** The learner's edit of the block's code; the block's own code when absent. */
  code?: string;
  /** Learners run what is published (`live`); editors and reviewers run what they edit (`draft`). */
  version: Version;
}

/**
 * Runs a jupyter block of a page (REST `…/blocks/{id}/execute/` and the GraphQL mutation):
 * the block's code or the learner's edit, in the learner's kernel for the lesson
 * environment (the block's, else the page's, else `default`).
 */
export async function runBlock(docs: PageDocs, executions: ExecutionService, input: RunBlockInput): Promise<LiveExecution> {
  const page = input.pageId === null ? undefined : await docs.get(input.pageId, input.version);
  if (!page) throw Errors.pageNotFound();
  const found = findBlock(page.doc, input.blockId);
  if (!found) throw Errors.blockNotFoundInPage([page.id, input.blockId]);
  if (found.block.type !== 'jupyter') throw Errors.notRunnable([input.blockId, found.block.type]);
  const value = found.block.value as { code: string; kernel?: string; environment?: string };
  return executions.run({
    learner: input.learner,
    pageId: page.id,
    blockId: found.block.id,
    environment: value.environment ?? (typeof page.doc.environment === 'string' ? page.doc.environment : DEFAULT_ENVIRONMENT),
    kernel: value.kernel ?? 'python3',
    code: input.code ?? value.code,
    edited: input.code !== undefined && input.code !== value.code,
  });
}
