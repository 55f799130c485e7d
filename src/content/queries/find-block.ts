import type { StoredBlock } from '../../blocks/clean-value.js';
import type { PageDoc } from '../page-document.js';

export interface FoundBlock {
  block: StoredBlock;
  /** The page field of the top-level block it is in. */
  field: string;
}

const isBlock = (v: unknown): v is StoredBlock =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
  && typeof (v as StoredBlock).id === 'string' && typeof (v as StoredBlock).type === 'string' && 'value' in v;

/** A block anywhere in a page (top level, in a list, in a nested stream), by id. */
export function findBlock(doc: PageDoc, id: string): FoundBlock | null {
  const search = (value: unknown): StoredBlock | null => {
    if (Array.isArray(value)) {
      for (const v of value) {
        const hit = search(v);
        if (hit) return hit;
      }
    } else if (isBlock(value)) {
      return value.id === id ? value : search(value.value);
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) {
        const hit = search(v);
        if (hit) return hit;
      }
    }
    return null;
  };
  for (const [field, value] of Object.entries(doc)) {
    if (!Array.isArray(value)) continue;
    const block = search(value);
    if (block) return { block, field };
  }
  return null;
}
