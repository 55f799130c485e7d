import sanitizeHtml from 'sanitize-html';

/**
 * The rich-text allowlist: what Wagtail's default Draftail features produce (headings,
 * bold/italic, lists, links, code, sub/superscript, strikethrough, quotes, rules) plus
 * `span`/`mark` for inline math and highlights. Everything else is dropped on save:
 * scripts and styles with their content, event-handler attributes, `style`, and any URL
 * whose scheme is not http(s), mailto or tel (so no `javascript:` or `data:`).
 */
const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'h2', 'h3', 'h4', 'h5', 'h6', 'b', 'strong', 'i', 'em', 'u', 's', 'del', 'ins', 'mark',
    'sub', 'sup', 'code', 'pre', 'kbd', 'blockquote', 'ul', 'ol', 'li', 'a', 'hr', 'span', 'abbr',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'target', 'rel', 'linktype', 'id'],
    abbr: ['title'],
    ol: ['start'],
    code: ['class'],
    span: ['class'],
  },
  allowedClasses: {
    code: [/^language-[a-z0-9+#_-]+$/],
    span: ['math', 'math-inline', 'math-display'],
  },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template'],
  transformTags: {
    // Links that open a new tab must not hand the opener to the target.
    a: (tagName, attribs) => (attribs.target === '_blank'
      ? { tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } }
      : { tagName, attribs }),
  },
};

export function sanitizeRichText(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}

/** The visible text of rich text: what search indexes and what diffs compare. */
export function richTextToPlain(html: string): string {
  return sanitizeHtml(html.replace(/<\/(p|h[2-6]|li|blockquote|pre)>|<br\s*\/?>/gi, '$& '), { allowedTags: [], allowedAttributes: {} })
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ').trim();
}
