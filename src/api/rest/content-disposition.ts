/**
 * Content-Disposition for a file name. One that is not plain ASCII (a Korean slug) goes
 * in an RFC 5987 `filename*`, with what is left of it in ASCII as `filename` for old
 * clients, or `fallback` when that has no letters.
 */
export function attachment(name: string, fallback: string): string {
  if (/^[\x20-\x7e]+$/.test(name) && !/["\\]/.test(name)) return `attachment; filename="${name}"`;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const ascii = stem.normalize('NFKD').replace(/[^\x20-\x7e]|["\\]/g, '').replace(/-{2,}/g, '-').replace(/^[-.\s]+|[-.\s]+$/g, '');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${/[A-Za-z]/.test(ascii) ? `${ascii}${ext}` : fallback}"; filename*=UTF-8''${encoded}`;
}
