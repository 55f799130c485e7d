import { richTextToPlain } from '../blocks/sanitize-rich-text.js';
import type { PageDoc } from './page-document.js';
import type { PageType } from './page-types.js';

const MAX_LENGTH = 200_000;

/** The text `search` matches: the title, then the visible text of the type's search fields. */
export function searchTextOf(type: PageType | undefined, doc: PageDoc): string {
  const parts: string[] = [doc.title];
  for (const name of type?.searchFields ?? []) collect(doc[name], parts);
  return parts.join(' ').replace(/\s+/g, ' ').trim().slice(0, MAX_LENGTH);
}

function collect(value: unknown, out: string[]): void {
  if (typeof value === 'string') {
    out.push(value.includes('<') ? richTextToPlain(value) : value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    // A block or list item: only its value is text; type and id are not.
    if ('type' in o && 'value' in o && 'id' in o) collect(o.value, out);
    // A jupyter cell's stored outputs (base64 images…) are not what a search looks for.
    else for (const [k, v] of Object.entries(o)) if (k !== 'outputs') collect(v, out);
  }
}
