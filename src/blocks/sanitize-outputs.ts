import sanitizeHtml from 'sanitize-html';
import type { NbOutput } from '../generated/schema-types.js';

/**
 * Jupyter outputs as Lectern serves and stores them, whether a kernel just produced them
 * or an editor saved them in a jupyter block (an imported notebook's): HTML sanitized (a
 * DataFrame's table stays, a <script> does not) and MIME types that frontends would run
 * or render unsanitized (JavaScript, SVG, widgets) dropped.
 */
const HTML_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'div', 'span', 'p', 'br', 'hr', 'pre', 'code', 'b', 'strong', 'i', 'em', 'u', 's', 'sub', 'sup', 'small',
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'blockquote',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'colgroup', 'col', 'img', 'a',
  ],
  allowedAttributes: {
    '*': ['class', 'title'],
    a: ['href'],
    img: ['src', 'alt', 'width', 'height'],
    th: ['colspan', 'rowspan', 'scope'],
    td: ['colspan', 'rowspan'],
    col: ['span'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['script', 'style', 'textarea', 'noscript', 'iframe', 'object', 'embed', 'template'],
  transformTags: {
    // Only images may be data: URLs, and only images.
    img: (tagName, attribs) => ({ tagName, attribs: /^data:image\/(png|jpeg|gif|webp);/i.test(attribs.src ?? '') || /^https?:/i.test(attribs.src ?? '') ? attribs : { ...attribs, src: '' } }),
  },
};

/** MIME types a frontend would run or render unsanitized; they are removed from bundles. */
const DROPPED = new Set(['application/javascript', 'text/javascript', 'image/svg+xml', 'application/vnd.jupyter.widget-view+json']);

function cleanBundle(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    if (DROPPED.has(mime)) continue;
    if (mime === 'text/html') out[mime] = sanitizeHtml(Array.isArray(value) ? value.join('') : String(value), HTML_OPTIONS);
    else out[mime] = value;
  }
  if (Object.keys(out).length === 0 && Object.keys(data).length > 0) {
    out['text/plain'] = `[output of type ${Object.keys(data).join(', ')} is not shown]`;
  }
  return out;
}

export function cleanOutput(o: NbOutput): NbOutput {
  if (o.output_type === 'display_data' || o.output_type === 'execute_result') return { ...o, data: cleanBundle(o.data) };
  return o;
}

export function cleanOutputs(outputs: readonly NbOutput[]): NbOutput[] {
  return outputs.map(cleanOutput);
}
