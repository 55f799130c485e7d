import { Errors, type FieldError } from '../errors.js';

/** Form fields every upload takes (images and documents), as the multipart form sends them: strings. */
export interface UploadFields {
  title?: string;
  /** Comma-separated, as Wagtail's tag widgets send them. */
  tags?: string;
}

const MAX_TITLE = 255;
const MAX_TAG = 100;
const MAX_TAGS = 50;

/** A title from the file name when none is given: "cat-photo.jpg" → "cat-photo". */
export function titleFrom(fields: UploadFields, fileName: string | undefined, fallback: string, errors: FieldError[]): string {
  const given = fields.title?.trim();
  if (given !== undefined && given !== '') {
    if (given.length > MAX_TITLE) errors.push({ path: '/title', message: `is longer than ${MAX_TITLE} characters` });
    return given.slice(0, MAX_TITLE);
  }
  const stem = (fileName ?? '').replace(/\.[^.]*$/, '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (stem || fallback).slice(0, MAX_TITLE);
}

export function tagsFrom(fields: UploadFields, errors: FieldError[]): string[] {
  if (fields.tags === undefined) return [];
  const tags = [...new Set(fields.tags.split(',').map((t) => t.trim()).filter(Boolean))];
  if (tags.length > MAX_TAGS) errors.push({ path: '/tags', message: `has ${tags.length} tags; at most ${MAX_TAGS}` });
  for (const t of tags) {
    if (t.length > MAX_TAG || /[\u0000-\u001f\u007f]/.test(t)) errors.push({ path: '/tags', message: `"${t.slice(0, 40)}" is not a valid tag (at most ${MAX_TAG} printable characters)` });
  }
  return tags;
}

export function throwIfInvalid(errors: FieldError[]): void {
  if (errors.length) throw Errors.validation([errors.map((e) => `${e.path} ${e.message}`).join('; ')], { errors });
}

/**
 * A file name fit for Content-Disposition and nothing else: no folders, no control
 * characters, at most 200 characters (the extension kept). Where the file is stored never
 * depends on it.
 */
export function cleanFileName(raw: string | undefined, fallback: string): string {
  const base = (raw ?? '').split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').normalize('NFC').trim();
  if (!base || base === '.' || base === '..') return fallback;
  if (base.length <= 200) return base;
  const dot = base.lastIndexOf('.');
  const ext = dot > 0 && base.length - dot <= 16 ? base.slice(dot) : '';
  return base.slice(0, 200 - ext.length) + ext;
}
