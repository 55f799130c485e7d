/**
 * Tree paths of pages (the `path` column): one fixed-width base-36 segment per ancestor,
 * root first, then the page's own, so `descendant_of` is a prefix match.
 */
export const PATH_SEGMENT_LENGTH = 6;

export const pathSegment = (id: number) => id.toString(36).padStart(PATH_SEGMENT_LENGTH, '0');

/** The ancestors' ids in a page's tree path, root first (the page itself left out). */
export function ancestorsOfPath(path: string): number[] {
  const ids: number[] = [];
  for (let i = 0; i + PATH_SEGMENT_LENGTH < path.length; i += PATH_SEGMENT_LENGTH) ids.push(parseInt(path.slice(i, i + PATH_SEGMENT_LENGTH), 36));
  return ids;
}
