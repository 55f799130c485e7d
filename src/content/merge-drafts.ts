import type { StoredBlock } from '../blocks/clean-value.js';
import type { PageDoc } from './page-document.js';
import type { PageType } from './page-types.js';

/** Where two concurrent edits of a page touched the same thing. */
export interface MergeConflict {
  /** JSON pointer into the current draft (a field, a block, or a stream whose order changed). */
  path: string;
  message: string;
  block_id?: string;
}

export type MergeResult = { doc: PageDoc; conflicts: [] } | { doc: null; conflicts: MergeConflict[] };

/** Members that are the page's, not an editor's: they never come from either edit. */
const STRUCTURAL = new Set(['id', 'type', 'parent']);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const blockKey = (b: StoredBlock) => JSON.stringify([b.type, b.value]);

/**
 * Three-way merge of two edits made from the same base revision, block by block:
 * `ours` is the latest draft (edits others saved since `base`), `theirs` is what this
 * editor wants (`base` plus their changes). When the two touched different fields and
 * different blocks, the result keeps both; when they touched the same field, the same
 * block (change/change, change/remove), or both reordered a stream differently, the
 * conflicts are returned instead. Identical changes on both sides are not conflicts.
 */
export function mergeDrafts(type: PageType, base: PageDoc, ours: PageDoc, theirs: PageDoc): MergeResult {
  const streams = new Set(type.fields.filter((f) => f.spec.kind === 'stream').map((f) => f.name));
  const conflicts: MergeConflict[] = [];
  const doc: Record<string, unknown> = { ...ours };

  const members = new Set([...Object.keys(base), ...Object.keys(ours), ...Object.keys(theirs)]);
  for (const name of members) {
    if (STRUCTURAL.has(name)) continue;
    if (streams.has(name)) {
      const merged = mergeStream(name, asStream(base[name]), asStream(ours[name]), asStream(theirs[name]), conflicts);
      if (merged) doc[name] = merged;
      continue;
    }
    const oursChanged = !same(base[name], ours[name]);
    const theirsChanged = !same(base[name], theirs[name]);
    if (theirsChanged && oursChanged && !same(ours[name], theirs[name])) {
      conflicts.push({ path: `/${name}`, message: `both edits change ${name}` });
    } else if (theirsChanged) {
      if (theirs[name] === undefined) delete doc[name];
      else doc[name] = theirs[name];
    }
  }
  if (conflicts.length) return { doc: null, conflicts };
  // Keep the canonical member order of `ours` (a member only `theirs` has goes last).
  return { doc: doc as PageDoc, conflicts: [] };
}

function asStream(v: unknown): StoredBlock[] {
  return Array.isArray(v) ? (v as StoredBlock[]) : [];
}

function mergeStream(field: string, base: StoredBlock[], ours: StoredBlock[], theirs: StoredBlock[], conflicts: MergeConflict[]): StoredBlock[] | null {
  const byId = (list: StoredBlock[]) => new Map(list.map((b) => [b.id, b]));
  const b = byId(base);
  const o = byId(ours);
  const t = byId(theirs);
  const oursIndex = new Map(ours.map((blk, i) => [blk.id, i]));
  const at = (id: string) => `/${field}/${oursIndex.get(id) ?? '-'}`;
  const before = conflicts.length;

  // Block contents: take theirs where only they changed a block; conflict where both did.
  const result = new Map(o);
  for (const [id, tb] of t) {
    const bb = b.get(id);
    const ob = o.get(id);
    if (!bb) {
      if (ob && blockKey(ob) !== blockKey(tb)) conflicts.push({ path: at(id), block_id: id, message: 'both edits add a block with this id' });
      else result.set(id, tb);
      continue;
    }
    if (blockKey(bb) === blockKey(tb)) continue; // they did not change it
    if (!ob) conflicts.push({ path: `/${field}`, block_id: id, message: `this edit changes a ${tb.type} block that was removed meanwhile` });
    else if (blockKey(bb) !== blockKey(ob) && blockKey(ob) !== blockKey(tb)) conflicts.push({ path: at(id), block_id: id, message: `both edits change this ${ob.type} block` });
    else result.set(id, tb);
  }
  for (const [id, bb] of b) {
    if (t.has(id)) continue; // they kept it
    const ob = o.get(id);
    if (ob && blockKey(ob) !== blockKey(bb)) conflicts.push({ path: at(id), block_id: id, message: `this edit removes a ${ob.type} block that was changed meanwhile` });
    else result.delete(id);
  }
  if (conflicts.length > before) return null;

  // Order: whoever reordered the blocks they share with the base decides it.
  const relative = (list: StoredBlock[]) => list.filter((blk) => b.has(blk.id) && t.has(blk.id) && o.has(blk.id)).map((blk) => blk.id);
  const baseOrder = base.filter((blk) => t.has(blk.id) && o.has(blk.id)).map((blk) => blk.id);
  const oursMoved = !same(relative(ours), baseOrder);
  const theirsMoved = !same(relative(theirs), baseOrder);
  if (oursMoved && theirsMoved && !same(relative(ours), relative(theirs))) {
    conflicts.push({ path: `/${field}`, message: `both edits reorder the ${field} blocks` });
    return null;
  }
  const lead = theirsMoved ? theirs : ours;
  const other = theirsMoved ? ours : theirs;
  const order = lead.map((blk) => blk.id).filter((id) => result.has(id));
  // Blocks only the other side has (it added them) go after the block they followed there.
  other.forEach((blk, i) => {
    if (!result.has(blk.id) || order.includes(blk.id)) return;
    let j = i - 1;
    while (j >= 0 && !order.includes(other[j]!.id)) j--;
    order.splice(j < 0 ? 0 : order.indexOf(other[j]!.id) + 1, 0, blk.id);
  });
  return order.map((id) => result.get(id)!);
}
