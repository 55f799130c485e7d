import sanitizeHtml from 'sanitize-html';
import type { NbOutput } from './kernel-gateway.js';

/**
 * What leaves the CMS of a run's outputs: nbformat dicts, HTML sanitized (a DataFrame's
 * table stays, a <script> does not), MIME types that frontends would execute dropped,
 * and at most `maxBytes` per run, then one visible truncation marker.
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

/** Counts a run's outputs against its limit; past it, one marker and nothing more. */
export class OutputBudget {
  private used = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  /** The outputs to keep for `o` (empty once over the limit; the marker when crossing it). */
  take(o: NbOutput): NbOutput[] {
    if (this.truncated) return [];
    const size = Buffer.byteLength(JSON.stringify(o));
    if (this.used + size <= this.maxBytes) {
      this.used += size;
      return [o];
    }
    this.truncated = true;
    const kept: NbOutput[] = [];
    const room = this.maxBytes - this.used;
    // A long stream keeps what fits of its text; other outputs are all or nothing.
    if (o.output_type === 'stream' && room > 200) {
      const text = Buffer.from(o.text).subarray(0, room - 100).toString('utf8').replace(/\uFFFD$/, '');
      kept.push({ ...o, text });
      this.used += Buffer.byteLength(JSON.stringify(kept[0]));
    }
    kept.push({ output_type: 'stream', name: 'stderr', text: `\n[output truncated: this run produced more than ${formatLimit(this.maxBytes)} of output]\n` });
    return kept;
  }
}

function formatLimit(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
