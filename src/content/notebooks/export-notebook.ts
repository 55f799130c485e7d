import type { StoredBlock } from '../../blocks/clean-value.js';
import type { NbOutput } from '../../generated/schema-types.js';
import type { PageDoc } from '../page-document.js';
import { blockMarkdown, escapeMarkdown, kernelLanguage, type MarkdownOptions } from './block-markdown.js';
import { CELL_ID, denormalizeOutput, isPlainObject, splitLines, type Notebook, type NotebookCell } from './nbformat.js';

/**
 * A page as an nbformat 4.5 notebook (DESIGN.md §6). Every cell carries
 * `metadata.lectern` so that importing the notebook restores the blocks exactly:
 *
 * | block | cell |
 * |---|---|
 * | (the title, and the intro) | markdown `# Title`, marked `{role: "title"}` |
 * | heading | markdown `## text` |
 * | paragraph | markdown holding the HTML |
 * | text | raw |
 * | code | markdown, a fenced block in its language |
 * | jupyter | code: source, outputs, execution_count |
 * | block_quote | markdown `> …` |
 * | image, document, embed | markdown links |
 * | quiz, exercise | markdown: the question and choices (answer folded), the exercise's blocks flattened |
 */

export interface ExportOptions extends MarkdownOptions {
  /** The revision exported, recorded in the notebook's metadata. */
  revision?: number | null;
}

export const TITLE_CELL_ID = 'lectern-title';
export const TITLE_ROLE = 'title';

/** Members of a jupyter block that its code cell holds, so the marker need not repeat them. */
export const CELL_MEMBERS = ['code', 'outputs', 'execution_count'] as const;

const isStoredBlock = (b: unknown): b is StoredBlock => isPlainObject(b) && typeof b.type === 'string' && 'value' in b;

export function exportNotebook(doc: PageDoc, opts: ExportOptions = {}): Notebook {
  const body = Array.isArray(doc.body) ? doc.body.filter(isStoredBlock) : [];
  const kernel = firstKernel(body) ?? 'python3';
  const language = kernelLanguage(kernel);
  const intro = typeof doc.intro === 'string' && doc.intro !== '' ? doc.intro : undefined;
  const used = new Set([TITLE_CELL_ID]);
  const cells: NotebookCell[] = [
    { id: TITLE_CELL_ID, cell_type: 'markdown', metadata: { lectern: { role: TITLE_ROLE } }, source: splitLines(titleCellSource(doc.title, intro)) },
    ...body.map((block, i) => ({ id: cellId(block.id, i, used), ...blockCell(block, opts) })),
  ];
  const lectern: Record<string, unknown> = { page: doc.id, revision: opts.revision ?? null, type: doc.type, title: doc.title, slug: doc.slug };
  if (intro !== undefined) lectern.intro = intro;
  if (typeof doc.environment === 'string') lectern.environment = doc.environment;
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: kernel, display_name: displayName(kernel, language), language },
      language_info: { name: language },
      lectern,
    },
    cells,
  };
}

/** The title cell's text: the title as an h1, then the intro. */
export const titleCellSource = (title: string, intro: string | undefined) =>
  `# ${escapeMarkdown(title)}${intro ? `\n\n${escapeMarkdown(intro)}` : ''}`;

/** The cell of a block (without its cell id). */
export function blockCell(block: StoredBlock, opts: MarkdownOptions = {}): Omit<NotebookCell, 'id'> {
  const marker = { type: block.type, value: block.value, id: block.id };
  const value = block.value;
  if (block.type === 'jupyter' && isPlainObject(value)) {
    const { code, outputs, execution_count: count, ...rest } = value;
    // The cell holds code and outputs; the marker says which of them the block had.
    const fromCell = CELL_MEMBERS.filter((k) => value[k] !== undefined);
    return {
      cell_type: 'code',
      metadata: { lectern: { ...marker, value: rest, from_cell: fromCell } },
      source: splitLines(typeof code === 'string' ? code : ''),
      execution_count: typeof count === 'number' ? count : null,
      outputs: Array.isArray(outputs) ? (outputs as NbOutput[]).map(denormalizeOutput) : [],
    };
  }
  if (block.type === 'text') return { cell_type: 'raw', metadata: { lectern: marker }, source: splitLines(String(block.value)) };
  return { cell_type: 'markdown', metadata: { lectern: marker }, source: splitLines(blockMarkdown(block.type, block.value, opts)) };
}

/** The block id as the cell id (a UUID is a valid one); unique in the notebook. */
function cellId(blockId: unknown, index: number, used: Set<string>): string {
  let id = typeof blockId === 'string' && CELL_ID.test(blockId) ? blockId : `block-${index}`;
  if (used.has(id)) id = `${id.slice(0, 40)}-${index}`;
  used.add(id);
  return id;
}

/** The kernel of the first jupyter block, nested ones (exercises) included. */
function firstKernel(blocks: unknown[]): string | undefined {
  for (const b of blocks) {
    if (!isPlainObject(b)) continue;
    if (b.type === 'jupyter' && isPlainObject(b.value)) return typeof b.value.kernel === 'string' ? b.value.kernel : 'python3';
    if (isPlainObject(b.value)) {
      for (const child of Object.values(b.value)) {
        const found = Array.isArray(child) ? firstKernel(child) : undefined;
        if (found) return found;
      }
    }
  }
  return undefined;
}

function displayName(kernel: string, language: string): string {
  if (kernel === 'python3') return 'Python 3 (ipykernel)';
  return kernel === language ? kernel : `${kernel} (${language})`;
}
