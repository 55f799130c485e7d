import { sortKeysDeep } from '../../blocks/sort-keys.js';
import type { NbOutput } from '../../generated/schema-types.js';
import { cleanOutput } from '../../blocks/sanitize-outputs.js';

/**
 * The parts of nbformat 4 (https://nbformat.readthedocs.io) that import and export
 * touch. On disk a multi-line string may be one string or a list of lines; Lectern
 * stores one string and writes lists of lines, as Jupyter does.
 */
export type MultilineString = string | string[];

export interface NotebookCell {
  id?: string;
  cell_type: 'markdown' | 'code' | 'raw';
  metadata: Record<string, unknown>;
  source: MultilineString;
  outputs?: unknown[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

export const OUTPUT_TYPES = ['stream', 'display_data', 'execute_result', 'error'] as const;

/** The members each output type may have (nbformat's schema has additionalProperties: false). */
const OUTPUT_MEMBERS: Record<string, readonly string[]> = {
  stream: ['output_type', 'name', 'text'],
  display_data: ['output_type', 'data', 'metadata'],
  execute_result: ['output_type', 'data', 'metadata', 'execution_count'],
  error: ['output_type', 'ename', 'evalue', 'traceback'],
};

/** MIME types whose data is JSON rather than a (multi-line) string. */
export const isJsonMimeType = (mime: string) => /^application\/(.*\+)?json$/.test(mime);

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const isMultiline = (v: unknown): v is MultilineString =>
  typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));

/** A list of lines (or a string) as one string; anything else is returned as is for validation to report. */
export function joinLines(v: unknown): unknown {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v.join('') : v;
}

/** A string as Jupyter writes it: lines that keep their line ends. */
export function splitLines(s: string): string[] {
  return s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A MIME bundle with multi-line strings joined (JSON types are left alone). */
function joinBundle(data: unknown): unknown {
  if (!isPlainObject(data)) return data;
  return Object.fromEntries(Object.entries(data).map(([mime, v]) => [mime, isJsonMimeType(mime) ? v : joinLines(v)]));
}

function splitBundle(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([mime, v]) => [mime, !isJsonMimeType(mime) && typeof v === 'string' ? splitLines(v) : v]));
}

/**
 * An output as a jupyter block stores it: multi-line strings joined, members that
 * nbformat does not define for its type dropped (old files carry `prompt_number`,
 * `transient`…), and cleaned as a run's outputs are (HTML sanitized, MIME types a
 * frontend would execute dropped): a notebook's stored outputs are anyone's HTML.
 * Shapes are left for the block schema to judge.
 */
export function normalizeOutput(output: unknown): unknown {
  if (!isPlainObject(output) || typeof output.output_type !== 'string') return output;
  const members = OUTPUT_MEMBERS[output.output_type];
  if (!members) return output;
  const out: Record<string, unknown> = {};
  for (const k of members) if (output[k] !== undefined) out[k] = output[k];
  if (out.text !== undefined) out.text = joinLines(out.text);
  if (out.data === undefined) return out;
  out.data = joinBundle(out.data);
  if (out.metadata === undefined) out.metadata = {};
  return isPlainObject(out.data) ? cleanOutput(out as unknown as NbOutput) : out;
}

/** A stored output as a notebook file holds it. */
export function denormalizeOutput(output: NbOutput): Record<string, unknown> {
  switch (output.output_type) {
    case 'stream':
      return { ...output, text: splitLines(output.text) };
    case 'display_data':
    case 'execute_result':
      return { ...output, data: splitBundle(output.data) };
    case 'error':
      return { ...output };
  }
}

/** The file text: sorted keys and one-space indents, as Jupyter writes notebooks (non-ASCII kept as is). */
export function serializeNotebook(nb: Notebook): string {
  return `${JSON.stringify(sortKeysDeep(nb), null, 1)}\n`;
}

/** A cell id as nbformat 4.5 requires: 1–64 characters of [a-zA-Z0-9-_]. */
export const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;
