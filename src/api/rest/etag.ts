import { createHash } from 'node:crypto';

export const bodyHash = (body: string) => createHash('sha1').update(body).digest('base64url');

/** A page response's ETag names the revision it shows: `"<revision>-<body hash>"`. */
export const pageEtag = (revision: number, body: string) => `"${revision}-${bodyHash(body).slice(0, 16)}"`;
export const listingEtag = (body: string) => `"${bodyHash(body)}"`;

/** Weak comparison (RFC 9110 §8.8.3.2) against an If-None-Match header. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * The revision an If-Match header names. Accepts our ETags (`"12-abc…"`), a bare
 * revision (`"12"` or `12`), weak or strong; `*` means any revision.
 */
export function revisionFromIfMatch(header: string | undefined): number | '*' | undefined | null {
  if (header === undefined) return undefined;
  const v = header.trim();
  if (v === '*') return '*';
  const m = /^(?:W\/)?"?(\d+)(?:-[A-Za-z0-9_-]*)?"?$/.exec(v);
  return m ? Number(m[1]) : null;
}
