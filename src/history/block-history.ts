import type { BlockDiff, FieldChange } from '../generated/schema-types.js';

/** One block's part in one revision: a row of the block_changes index. */
export interface BlockTouch {
  blockId: string;
  blockType: string;
  op: 'added' | 'removed' | 'changed' | 'unchanged';
  moved: boolean;
  field: string;
  parentBlockId: string | null;
}

const isStored = (v: unknown): v is { type: string; value: unknown; id: string } =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
  && typeof (v as { id?: unknown }).id === 'string' && typeof (v as { type?: unknown }).type === 'string' && 'value' in v;

/** Every block and list item nested anywhere in `value`, with the block directly holding it. */
function nestedBlocks(value: unknown, parent: string, out: { id: string; type: string; parent: string }[]): void {
  if (Array.isArray(value)) {
    for (const v of value) nestedBlocks(v, parent, out);
  } else if (isStored(value)) {
    out.push({ id: value.id, type: value.type, parent });
    nestedBlocks(value.value, value.id, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) nestedBlocks(v, parent, out);
  }
}

/**
 * What a revision did to each block, top-level and nested, from the compare of it with
 * the revision before: blocks added, removed, changed or only moved. Blocks inside an
 * added or removed block are added or removed with it.
 */
export function blockTouches(body: readonly BlockDiff[], field = ''): BlockTouch[] {
  const out: BlockTouch[] = [];
  const visit = (d: BlockDiff, fieldName: string, parent: string | null) => {
    if (!d.id) return;
    if (d.op !== 'unchanged' || d.moved) out.push({ blockId: d.id, blockType: d.type, op: d.op, moved: d.moved, field: fieldName, parentBlockId: parent });
    if (d.op === 'added' || d.op === 'removed') {
      const inner: { id: string; type: string; parent: string }[] = [];
      nestedBlocks(d.value, d.id, inner);
      for (const b of inner) out.push({ blockId: b.id, blockType: b.type, op: d.op, moved: false, field: fieldName, parentBlockId: b.parent });
    }
    for (const change of d.changes ?? []) visitChange(change, fieldName, d.id);
  };
  const visitChange = (change: FieldChange, fieldName: string, parent: string) => {
    if (change.kind === 'list') for (const item of change.items) visit(item, fieldName, parent);
  };
  for (const d of body) visit(d, d.field ?? field, null);
  return out;
}

/** Every block of a new page's streams, all added. */
export function addedTouches(doc: Record<string, unknown>, streams: readonly string[]): BlockTouch[] {
  const out: BlockTouch[] = [];
  for (const field of streams) {
    const inner: { id: string; type: string; parent: string }[] = [];
    nestedBlocks(doc[field], '', inner);
    for (const b of inner) out.push({ blockId: b.id, blockType: b.type, op: 'added', moved: false, field, parentBlockId: b.parent || null });
  }
  return out;
}
