import type { BlockDiff, FieldChange } from '../../generated/schema-types.js';
import { deepEqual } from './deep-equal.js';
import { longestIncreasingSubsequence } from './longest-increasing-subsequence.js';

/** A stream block or a list item, read leniently from stored data. */
export interface DiffItem {
  id: string;
  type: string;
  value: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const idOf = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** Stream blocks `{type, value, id}`; anything else becomes a block of type "" holding it. */
export function streamItems(blocks: readonly unknown[]): DiffItem[] {
  return blocks.map((b) => (isPlainObject(b) && typeof b.type === 'string'
    ? { id: idOf(b.id), type: b.type, value: b.value }
    : { id: '', type: '', value: b }));
}

/** List items `{type: "item", value, id}`; a bare value (as typed, not as stored) is an item without id. */
export function listItems(items: readonly unknown[]): DiffItem[] {
  return items.map((it) => (isPlainObject(it) && it.type === 'item' && 'value' in it
    ? { id: idOf(it.id), type: 'item', value: it.value }
    : { id: '', type: 'item', value: it }));
}

/** Says what changed inside a block whose type stayed the same (never empty). */
export type ChangesOf = (type: string, before: unknown, after: unknown) => FieldChange[];

/**
 * Diffs two streams (or lists) of blocks by id, never by position.
 *
 * - Blocks in both: the longest common subsequence of their ids (old order against new)
 *   stays put; every other common block is `moved`, whether or not it also changed.
 * - Output in the new order; each removed block right after the block that preceded it
 *   in the old order (removed runs stay together), or first when nothing preceded it.
 * - A repeated id (invalid, but it must not break a diff) pairs its n-th occurrences on
 *   both sides; blocks without an id pair the same way under the id "".
 * - Same id, other type: op "changed" with a single `typeChange`.
 */
export function diffBlockList(from: readonly DiffItem[], to: readonly DiffItem[], changesOf: ChangesOf, field?: string): BlockDiff[] {
  const fromKeys = occurrenceKeys(from);
  const toKeys = occurrenceKeys(to);
  const fromIndex = new Map<string, number>();
  fromKeys.forEach((k, i) => fromIndex.set(k, i));

  const match = new Int32Array(to.length).fill(-1);
  const common: number[] = [];
  const matched = new Uint8Array(from.length);
  toKeys.forEach((k, j) => {
    const i = fromIndex.get(k);
    if (i === undefined) return;
    match[j] = i;
    matched[i] = 1;
    common.push(j);
  });
  const keep = longestIncreasingSubsequence(common.map((j) => match[j] as number));
  const moved = new Uint8Array(to.length);
  common.forEach((j, p) => { if (keep[p] === 0) moved[j] = 1; });

  // Removed blocks, keyed by the old index of the nearest common block before them (-1: none).
  const removedAfter = new Map<number, BlockDiff[]>();
  let anchor = -1;
  from.forEach((item, i) => {
    if (matched[i] === 1) { anchor = i; return; }
    const list = removedAfter.get(anchor) ?? [];
    list.push(entry(field, item, 'removed', false, { fromIndex: i, value: item.value }));
    removedAfter.set(anchor, list);
  });

  const out: BlockDiff[] = [...(removedAfter.get(-1) ?? [])];
  to.forEach((item, j) => {
    const i = match[j] as number;
    if (i === -1) {
      out.push(entry(field, item, 'added', false, { toIndex: j, value: item.value }));
      return;
    }
    const old = from[i] as DiffItem;
    const isMoved = moved[j] === 1;
    if (old.type !== item.type) {
      const change: FieldChange = {
        path: [], kind: 'typeChange', before: { type: old.type, value: old.value ?? null }, after: { type: item.type, value: item.value ?? null },
      };
      out.push(entry(field, item, 'changed', isMoved, { fromIndex: i, toIndex: j, changes: [change] }));
    } else if (deepEqual(old.value, item.value)) {
      out.push(entry(field, item, 'unchanged', isMoved, { fromIndex: i, toIndex: j }));
    } else {
      out.push(entry(field, item, 'changed', isMoved, { fromIndex: i, toIndex: j, changes: changesOf(item.type, old.value, item.value) }));
    }
    const removed = removedAfter.get(i);
    if (removed) out.push(...removed);
  });
  return out;
}

/** Members in a fixed order (field, id, type, op, moved, indexes, value or changes): the order clients read. */
function entry(field: string | undefined, item: DiffItem, op: BlockDiff['op'], moved: boolean, rest: Partial<BlockDiff>): BlockDiff {
  const d: BlockDiff = field === undefined ? { id: item.id, type: item.type, op, moved } : { field, id: item.id, type: item.type, op, moved };
  if (rest.fromIndex !== undefined) d.fromIndex = rest.fromIndex;
  if (rest.toIndex !== undefined) d.toIndex = rest.toIndex;
  if ('value' in rest) d.value = rest.value;
  if (rest.changes !== undefined) d.changes = rest.changes;
  return d;
}

/** `id` plus its occurrence number, so that keys are unique even when ids are not. */
function occurrenceKeys(items: readonly DiffItem[]): string[] {
  const seen = new Map<string, number>();
  return items.map((it) => {
    const n = seen.get(it.id) ?? 0;
    seen.set(it.id, n + 1);
    return `${it.id}\u0000${n}`;
  });
}
