/**
 * The text a reader sees in stored rich text: tags dropped (with the content of
 * script/style, which the sanitizer never keeps anyway), character references decoded,
 * whitespace collapsed as a browser would, and a newline where a block ends (paragraph,
 * heading, list item, quote, line break). Stored HTML is sanitizer output, so a
 * tag is always `<…>`; this stays a few string passes instead of an HTML parse because
 * it runs for every changed rich-text value of a diff.
 */
export function visibleText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->|<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<\/(?:p|h[1-6]|li|blockquote|pre|div|ul|ol|table|tr)\s*>|<(?:br|hr)\b[^>]*>/gi, '\u0000')
    .replace(/<[^>]*>/g, '')
    .replace(/[ \t\n\r\f]+/g, ' ')
    .replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});/g, decodeReference)
    .replace(/ *\u0000[\u0000 ]*/g, '\n')
    .replace(/^[\n ]+|[\n ]+$/g, '');
}

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', shy: '\u00ad',
  ndash: '\u2013', mdash: '\u2014', hellip: '\u2026', lsquo: '\u2018', rsquo: '\u2019',
  ldquo: '\u201c', rdquo: '\u201d', laquo: '\u00ab', raquo: '\u00bb', middot: '\u00b7',
  bull: '\u2022', times: '\u00d7', divide: '\u00f7', copy: '\u00a9', reg: '\u00ae', trade: '\u2122',
  deg: '\u00b0', plusmn: '\u00b1', micro: '\u00b5', para: '\u00b6', sect: '\u00a7', euro: '\u20ac',
};

function decodeReference(whole: string, ref: string): string {
  if (ref[0] !== '#') return NAMED[ref] ?? whole;
  const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
  // A reference to nothing (0, a surrogate, past U+10FFFF) stays as written.
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return whole;
  return String.fromCodePoint(code);
}
