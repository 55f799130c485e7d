import MarkdownIt from 'markdown-it';
import type StateInline from 'markdown-it/lib/rules_inline/state_inline.mjs';
import type Token from 'markdown-it/lib/token.mjs';

/**
 * Markdown as Jupyter writes it (CommonMark + GFM tables, inline HTML, `$…$` math),
 * rendered to the HTML of a paragraph block. The block layer sanitizes it on save.
 */
const md = new MarkdownIt({ html: true, linkify: true });

/**
 * `$…$` and `$$…$$`: kept verbatim in a math span (the rich-text allowlist has
 * `span.math`), or markdown-it would read `$a_1 * b_2$` as emphasis. Pandoc's rules for
 * single dollars: no space inside either delimiter, no digit right after the closing
 * one, so "$5 and $6" stays text.
 */
function mathRule(state: StateInline, silent: boolean): boolean {
  const { src, pos, posMax } = state;
  if (src.charCodeAt(pos) !== 0x24) return false;
  const display = src.charCodeAt(pos + 1) === 0x24;
  const delimiter = display ? '$$' : '$';
  const start = pos + delimiter.length;
  if (!display && (start >= posMax || /\s/.test(src[start]!))) return false;
  let end = start;
  for (;;) {
    end = src.indexOf(delimiter, end);
    if (end === -1 || end + delimiter.length > posMax) return false;
    if (src[end - 1] !== '\\') break;
    end += 1;
  }
  if (end === start) return false;
  if (!display && (/\s/.test(src[end - 1]!) || /\d/.test(src[end + 1] ?? ''))) return false;
  if (!silent) {
    const token = state.push(display ? 'math_display' : 'math_inline', 'span', 0);
    token.content = src.slice(start, end);
    token.markup = delimiter;
  }
  state.pos = end + delimiter.length;
  return true;
}

md.inline.ruler.before('escape', 'math', mathRule);
md.renderer.rules.math_inline = (tokens, i) => `<span class="math math-inline">\\(${md.utils.escapeHtml(tokens[i]!.content)}\\)</span>`;
md.renderer.rules.math_display = (tokens, i) => `<span class="math math-display">\\[${md.utils.escapeHtml(tokens[i]!.content)}\\]</span>`;
// The page title is the only h1; rich text has none (see sanitize-rich-text.ts).
md.core.ruler.push('no_h1', (state) => {
  for (const t of state.tokens) if ((t.type === 'heading_open' || t.type === 'heading_close') && t.tag === 'h1') t.tag = 'h2';
});

/** The visible text of an inline token: what a heading block or the intro (plain text) holds. */
export function inlineText(token: Token | undefined): string {
  const parts: string[] = [];
  for (const c of token?.children ?? []) {
    if (c.type === 'text' || c.type === 'code_inline') parts.push(c.content);
    else if (c.type === 'math_inline' || c.type === 'math_display') parts.push(`${c.markup}${c.content}${c.markup}`);
    else if (c.type === 'softbreak' || c.type === 'hardbreak') parts.push(' ');
    else if (c.type === 'image') parts.push(inlineText(c));
  }
  return parts.join('').replace(/\s+/g, ' ').trim();
}

export interface MarkdownCell {
  /** The cell's leading headings, in order. */
  headings: { level: number; text: string }[];
  /** Everything after them, rendered; null when nothing follows. */
  html: string | null;
  /** When what follows is one plain paragraph: its text. */
  plainParagraph: string | null;
  /** When what follows is one quote of unformatted paragraphs: its text (a block_quote). */
  plainQuote: string | null;
  /** When what follows is one fenced code block with a language: it (a code block). */
  fence: { language: string; source: string } | null;
  /** Markdown that rich text cannot keep (the allowlist has no img or table). */
  lost: ('image' | 'table')[];
}

/** Splits a markdown cell into its leading heading lines and the rest, rendered. */
export function renderMarkdownCell(source: string): MarkdownCell {
  const text = source.replace(/\r\n?/g, '\n');
  const tokens = md.parse(text, {});
  const headings: MarkdownCell['headings'] = [];
  let i = 0;
  while (tokens[i]?.type === 'heading_open') {
    // The tag says h2 for an h1 now (core rule above): the markup still tells the level.
    const open = tokens[i]!;
    const level = open.markup.startsWith('#') ? open.markup.length : open.markup === '=' ? 1 : 2;
    headings.push({ level, text: inlineText(tokens[i + 1]) });
    i += 3;
  }
  const restTokens = tokens.slice(i);
  const lost = new Set<'image' | 'table'>();
  for (const t of restTokens) {
    if (t.type === 'table_open') lost.add('table');
    if (t.children?.some((c) => c.type === 'image')) lost.add('image');
  }
  const single = restTokens.length === 3 && restTokens[0]!.type === 'paragraph_open' && restTokens[2]!.type === 'paragraph_close';
  return {
    headings,
    html: restTokens.length ? md.renderer.render(restTokens, md.options, {}).trim() : null,
    plainParagraph: single ? inlineText(restTokens[1]) : null,
    plainQuote: plainQuote(restTokens),
    fence: restTokens.length === 1 && restTokens[0]!.type === 'fence' && restTokens[0]!.info.trim()
      ? { language: restTokens[0]!.info.trim().split(/\s+/)[0]!.toLowerCase(), source: restTokens[0]!.content.replace(/\n$/, '') }
      : null,
    lost: [...lost],
  };
}

/** The text of a quote that holds only unformatted paragraphs; null for anything else. */
function plainQuote(tokens: Token[]): string | null {
  if (tokens[0]?.type !== 'blockquote_open' || tokens.at(-1)?.type !== 'blockquote_close') return null;
  const paragraphs: string[] = [];
  for (let i = 1; i < tokens.length - 1; i += 3) {
    const [open, inline, close] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (open?.type !== 'paragraph_open' || inline?.type !== 'inline' || close?.type !== 'paragraph_close') return null;
    if (!inline.children?.every((c) => c.type === 'text' || c.type === 'softbreak')) return null;
    paragraphs.push(inline.children.map((c) => (c.type === 'text' ? c.content : '\n')).join(''));
  }
  return paragraphs.length ? paragraphs.join('\n\n') : null;
}
