import { basename, extname } from 'node:path';
import { Errors, type FieldError } from '../../errors.js';
import codeBlock from '../../../blocks/code.json' with { type: 'json' };
import { blockMarkdown } from './block-markdown.js';
import { CELL_MEMBERS, TITLE_ROLE, titleCellSource } from './export-notebook.js';
import { isMultiline, isPlainObject, joinLines, normalizeOutput, OUTPUT_TYPES } from './nbformat.js';
import { renderMarkdownCell } from './render-markdown.js';

/**
 * A Jupyter notebook (nbformat 4) as a flat page payload (DESIGN.md §4), ready for
 * createPage, which validates and sanitizes it like any other:
 *
 * - markdown cell → its leading heading lines as `heading` blocks, the rest as one
 *   `paragraph` (rendered HTML); a rest that is only a plain quote becomes a
 *   `block_quote`, only a fenced block with a language a `code` block;
 * - code cell → `jupyter` {code, kernel (the notebook's kernelspec), outputs, execution_count};
 * - raw cell → `text`;
 * - the first level-1 heading → the title (a plain paragraph right after it → the intro);
 * - a cell with `metadata.lectern` (written by export) → exactly that block, id included;
 *   a jupyter block takes its code and outputs from the cell, and a heading, paragraph,
 *   text, code or quote cell edited in Jupyter is converted anew but keeps its block id.
 */

export interface ImportOptions {
  /** The uploaded file's name: the title when the notebook has no level-1 heading. */
  filename?: string;
  /** Overrides the title found in the notebook. */
  title?: string;
  /** The page type (default lesson). */
  type?: string;
}

export interface ImportedBlock {
  type: string;
  value: unknown;
  id?: string;
}

/** Where a block came from, to point validation errors into the notebook. */
export interface BlockOrigin {
  cell: number;
  /** lectern: restored from the cell's metadata; jupyter: a code cell; source: converted from the cell's source. */
  kind: 'lectern' | 'jupyter' | 'source';
  /** A jupyter block restored from metadata (its other members come from there). */
  restored?: boolean;
}

export interface NotebookImport {
  payload: { type: string; title: string; intro?: string; environment?: string; body: ImportedBlock[] };
  /** One per body block. */
  origins: BlockOrigin[];
  /** The cell that gave the title, if any. */
  titleCell: number | null;
  /** What the page cannot keep (markdown images, tables…), with pointers into the notebook. */
  warnings: FieldError[];
}

const CELL_TYPES = ['markdown', 'code', 'raw'];
const CODE_LANGUAGE = new RegExp(codeBlock.schema.properties.language.pattern);
/** Blocks whose cell an editor may change in Jupyter; other cells are only a rendering. */
const EDITABLE = new Set(['heading', 'paragraph', 'text', 'code', 'block_quote']);

const notNotebook = (message: string, path = '') => Errors.notNotebook([message], { errors: [{ path, message }] });

/** The notebook in a file's text; 400 for anything that is not nbformat 4 JSON. */
export function parseNotebook(text: string): Record<string, unknown> {
  let nb: unknown;
  try {
    nb = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw notNotebook(`the file is not valid JSON (${(err as Error).message})`);
  }
  return checkNotebook(nb);
}

function checkNotebook(nb: unknown): Record<string, unknown> {
  if (!isPlainObject(nb) || (nb.nbformat === undefined && nb.cells === undefined)) throw notNotebook('expected an object with "nbformat" and "cells"');
  if (nb.nbformat !== 4) {
    const found = typeof nb.nbformat === 'number' ? `this file is nbformat ${nb.nbformat}` : 'the file has no nbformat version';
    throw notNotebook(`only nbformat 4 notebooks can be imported; ${found} (open and save it in a current Jupyter to convert it)`, '/nbformat');
  }
  if (!Array.isArray(nb.cells)) throw notNotebook('"cells" must be a list of cells', '/cells');
  if (nb.metadata !== undefined && !isPlainObject(nb.metadata)) throw notNotebook('"metadata" must be an object', '/metadata');
  const errors: FieldError[] = [];
  nb.cells.forEach((cell, i) => {
    const at = `/cells/${i}`;
    if (!isPlainObject(cell)) return void errors.push({ path: at, message: 'a cell must be an object' });
    if (typeof cell.cell_type !== 'string' || !CELL_TYPES.includes(cell.cell_type)) {
      errors.push({ path: `${at}/cell_type`, message: `must be one of ${CELL_TYPES.map((t) => `"${t}"`).join(', ')}` });
    }
    if (!isMultiline(cell.source)) errors.push({ path: `${at}/source`, message: 'must be a string or a list of strings' });
    if (cell.metadata !== undefined && !isPlainObject(cell.metadata)) errors.push({ path: `${at}/metadata`, message: 'must be an object' });
    if (cell.cell_type !== 'code') return;
    if (cell.outputs !== undefined && !Array.isArray(cell.outputs)) errors.push({ path: `${at}/outputs`, message: 'must be a list of outputs' });
    (Array.isArray(cell.outputs) ? cell.outputs : []).forEach((o, k) => {
      if (!isPlainObject(o) || !(OUTPUT_TYPES as readonly unknown[]).includes(o.output_type)) {
        errors.push({ path: `${at}/outputs/${k}/output_type`, message: `must be one of ${OUTPUT_TYPES.map((t) => `"${t}"`).join(', ')}` });
      }
    });
  });
  if (errors.length) throw Errors.validation([errors.map((e) => `${e.path} ${e.message}`).join('; ')], { errors });
  return nb;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function importNotebook(input: string | unknown, opts: ImportOptions = {}): NotebookImport {
  const nb = typeof input === 'string' ? parseNotebook(input) : checkNotebook(input);
  const metadata = isPlainObject(nb.metadata) ? nb.metadata : {};
  const cells = nb.cells as Record<string, unknown>[];
  const kernelspec = isPlainObject(metadata.kernelspec) ? metadata.kernelspec : {};
  const kernel = str(kernelspec.name) || 'python3';
  const exported = isPlainObject(metadata.lectern) ? metadata.lectern : {};

  const body: ImportedBlock[] = [];
  const origins: BlockOrigin[] = [];
  const warnings: FieldError[] = [];
  const ids = new Set<string>();
  const markerOf = (cell: Record<string, unknown>) => (isPlainObject(cell.metadata) && isPlainObject(cell.metadata.lectern) ? cell.metadata.lectern : null);
  let titleCell = cells.findIndex((c) => markerOf(c)?.role === TITLE_ROLE);
  let title: string | undefined;
  let intro: string | undefined;

  const push = (block: ImportedBlock, origin: BlockOrigin) => {
    if (block.id !== undefined) {
      // A cell copied in Jupyter copies its marker: the copy becomes a new block.
      if (ids.has(block.id)) block = { type: block.type, value: withoutIds(block.value) };
      else ids.add(block.id);
    }
    body.push(block);
    origins.push(origin);
  };

  /** A markdown cell's blocks; `asTitle`: its first heading is the title, a plain paragraph after it the intro. */
  const convertMarkdown = (source: string, i: number, asTitle: boolean): ImportedBlock[] => {
    const md = renderMarkdownCell(source);
    for (const lost of md.lost) {
      warnings.push({ path: `/cells/${i}/source`, message: lost === 'image' ? 'markdown images are not kept (rich text has no images): use image blocks' : 'tables are kept as text only (rich text has no tables)' });
    }
    const blocks: ImportedBlock[] = [];
    let headings = md.headings.filter((h) => h.text !== '');
    let introTaken = false;
    const first = headings[0];
    if (first && (asTitle || (titleCell === -1 && title === undefined && first.level === 1))) {
      title = first.text;
      titleCell = i;
      headings = headings.slice(1);
      if (headings.length === 0 && md.plainParagraph !== null && md.plainParagraph.length <= 2000) {
        intro = md.plainParagraph;
        introTaken = true;
      }
    } else if (!first && asTitle && md.plainParagraph !== null) {
      intro = md.plainParagraph;
      introTaken = true;
    }
    for (const h of headings) blocks.push({ type: 'heading', value: h.text });
    if (md.html !== null && !introTaken) {
      if (md.plainQuote !== null) blocks.push({ type: 'block_quote', value: md.plainQuote });
      else if (md.fence && CODE_LANGUAGE.test(md.fence.language)) blocks.push({ type: 'code', value: { language: md.fence.language, source: md.fence.source } });
      else blocks.push({ type: 'paragraph', value: md.html });
    }
    return blocks;
  };

  const jupyterValue = (cell: Record<string, unknown>, source: string): Record<string, unknown> => ({
    code: source,
    kernel,
    outputs: (Array.isArray(cell.outputs) ? cell.outputs : []).map(normalizeOutput),
    execution_count: cell.execution_count ?? null,
  });

  const convert = (cell: Record<string, unknown>, source: string, i: number): ImportedBlock[] => {
    if (cell.cell_type === 'code') return [{ type: 'jupyter', value: jupyterValue(cell, source) }];
    if (cell.cell_type === 'raw') return [{ type: 'text', value: source }];
    return convertMarkdown(source, i, false);
  };

  cells.forEach((cell, i) => {
    const source = joinLines(cell.source) as string;
    const marker = markerOf(cell);
    if (marker?.role === TITLE_ROLE && i === titleCell) {
      const unchanged = typeof exported.title === 'string' && source === titleCellSource(exported.title, str(exported.intro));
      if (unchanged) {
        title = exported.title as string;
        intro = str(exported.intro);
      } else {
        for (const b of convertMarkdown(source, i, true)) push(b, { cell: i, kind: 'source' });
      }
      return;
    }
    if (marker && typeof marker.type === 'string' && 'value' in marker) {
      const id = str(marker.id);
      if (marker.type === 'jupyter' && cell.cell_type === 'code' && isPlainObject(marker.value)) {
        const fromCell = Array.isArray(marker.from_cell) ? marker.from_cell : CELL_MEMBERS;
        const fresh = jupyterValue(cell, source);
        const value: Record<string, unknown> = { ...marker.value, code: source };
        // Outputs the block had, or that a run in Jupyter gave it.
        if (fromCell.includes('outputs') || (fresh.outputs as unknown[]).length) value.outputs = fresh.outputs;
        if (fromCell.includes('execution_count') || fresh.execution_count !== null) value.execution_count = fresh.execution_count;
        return push({ type: 'jupyter', value, id }, { cell: i, kind: 'jupyter', restored: true });
      }
      const rendered = EDITABLE.has(marker.type) ? renderedCell(marker.type, marker.value) : null;
      if (rendered === null || (rendered.cellType === cell.cell_type && rendered.source === source)) {
        return push({ type: marker.type, value: marker.value, id }, { cell: i, kind: 'lectern' });
      }
      // Edited in Jupyter: the new content, under the block's id when it is still one block of its type.
      const blocks = convert(cell, source, i);
      const keepId = blocks.length === 1 && blocks[0]!.type === marker.type;
      for (const b of blocks) push(keepId ? { ...b, id } : b, { cell: i, kind: cell.cell_type === 'code' ? 'jupyter' : 'source' });
      return;
    }
    if (marker) warnings.push({ path: `/cells/${i}/metadata/lectern`, message: 'is not a Lectern block ({type, value, id}); the cell was converted from its source' });
    for (const b of convert(cell, source, i)) push(b, { cell: i, kind: cell.cell_type === 'code' ? 'jupyter' : 'source' });
  });

  const fromFile = opts.filename ? basename(opts.filename, extname(opts.filename)).trim() : '';
  const payload: NotebookImport['payload'] = {
    type: opts.type ?? 'lesson',
    title: opts.title || title || str(metadata.title)?.trim() || fromFile || 'Untitled notebook',
    body,
  };
  if (intro !== undefined) payload.intro = intro;
  if (typeof exported.environment === 'string') payload.environment = exported.environment;
  return { payload, origins, titleCell: titleCell === -1 ? null : titleCell, warnings };
}

/** How export writes a block whose cell an editor may change: to tell an edited cell from an untouched one. */
function renderedCell(type: string, value: unknown): { cellType: string; source: string } {
  if (type === 'text') return { cellType: 'raw', source: typeof value === 'string' ? value : '' };
  return { cellType: 'markdown', source: blockMarkdown(type, value) };
}

/** A copied block's value without the ids of its list items and nested blocks. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  const isBlock = 'type' in value && 'value' in value;
  for (const [k, v] of Object.entries(value)) if (!(isBlock && k === 'id')) out[k] = withoutIds(v);
  return out;
}

/**
 * A JSON pointer into the page payload (as createPage reports it) as a pointer into the
 * notebook: `/body/4/value/code` → `/cells/6/source`.
 */
export function notebookPointer(imported: NotebookImport, path: string): string {
  const m = /^\/body(?:\/(\d+)(\/.*)?)?$/.exec(path);
  if (!m) {
    if ((path === '/title' || path === '/intro') && imported.titleCell !== null) return `/cells/${imported.titleCell}/source`;
    if (path === '/environment') return '/metadata/lectern/environment';
    return path;
  }
  if (m[1] === undefined) return '/cells';
  const origin = imported.origins[Number(m[1])];
  if (!origin) return '/cells';
  const cell = `/cells/${origin.cell}`;
  const rest = m[2] ?? '';
  if (origin.kind === 'lectern') return `${cell}/metadata/lectern${rest}`;
  if (origin.kind === 'source') return rest === '/id' ? `${cell}/metadata/lectern/id` : `${cell}/source`;
  const member = /^\/value\/(code|outputs|execution_count)(\/.*)?$/.exec(rest);
  if (member) return member[1] === 'code' ? `${cell}/source` : `${cell}/${member[1]}${member[2] ?? ''}`;
  if (origin.restored) return `${cell}/metadata/lectern${rest}`;
  if (rest.startsWith('/value/kernel')) return '/metadata/kernelspec/name';
  return cell;
}
