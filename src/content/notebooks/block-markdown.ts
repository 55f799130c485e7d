/**
 * Readable markdown for blocks that have no cell of their own in a notebook (export).
 * What it writes is for people: import restores these blocks from the cell's
 * `metadata.lectern`, never by parsing this text back.
 */

type Json = Record<string, unknown>;

export interface MarkdownOptions {
  /** scheme://host for links to images and documents; relative links without it. */
  origin?: string;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Plain text as inline markdown that shows exactly that text. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>$&~|#]/g, (c) => `\\${c}`)
    .replace(/^(\s*)([+=-])/gm, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/gm, '$1\\$2');
}

/** A fenced code block whose fence is longer than any backtick run in the code. */
export function fence(language: string, source: string): string {
  const longest = Math.max(0, ...(source.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}${language}\n${source}${source.endsWith('\n') || source === '' ? '' : '\n'}${ticks}`;
}

/** The language a kernelspec runs, by its usual names (ipykernel, IRkernel, IJulia…). */
export function kernelLanguage(kernel: string): string {
  const k = kernel.toLowerCase();
  if (k === 'ir' || k.startsWith('ir-')) return 'R';
  if (k.startsWith('julia')) return 'julia';
  if (k.startsWith('javascript') || k === 'deno' || k.startsWith('tslab')) return 'javascript';
  if (k.startsWith('bash')) return 'bash';
  return 'python';
}

const quote = (text: string) => text.split('\n').map((line) => `> ${escapeMarkdown(line)}`.trimEnd()).join('\n');
const details = (summary: string, body: string) => `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;

/** Items of a list value, as stored ({type: "item", value, id}) or bare. */
const itemValues = (v: unknown): unknown[] => (Array.isArray(v) ? v.map((i) => (isObject(i) && i.type === 'item' && 'value' in i ? i.value : i)) : []);

/** Blocks of a nested stream, rendered one after the other. */
function flattenStream(stream: unknown, opts: MarkdownOptions): string {
  const blocks = Array.isArray(stream) ? stream.filter(isObject) : [];
  return blocks.map((b) => blockMarkdown(str(b.type), b.value, opts)).filter(Boolean).join('\n\n');
}

/** A block as markdown (a paragraph's rich text is HTML, which markdown cells render). */
export function blockMarkdown(type: string, value: unknown, opts: MarkdownOptions = {}): string {
  const origin = opts.origin ?? '';
  switch (type) {
    case 'heading':
      return `## ${escapeMarkdown(str(value))}`;
    case 'paragraph':
      return str(value);
    case 'text':
      return escapeMarkdown(str(value));
    case 'block_quote':
      return quote(str(value));
    case 'code':
      return isObject(value) ? fence(str(value.language), str(value.source)) : '';
    case 'jupyter':
      return isObject(value) ? fence(kernelLanguage(str(value.kernel) || 'python3').toLowerCase(), str(value.code)) : '';
    case 'image':
      return `[Image ${String(value)}](${origin}/api/v2/images/${String(value)}/)`;
    case 'document':
      return `[Document ${String(value)}](${origin}/api/v2/documents/${String(value)}/)`;
    case 'embed':
      return `[${escapeMarkdown(str(value))}](<${str(value)}>)`;
    case 'quiz': {
      if (!isObject(value)) return '';
      const choices = itemValues(value.choices).map((c) => (isObject(c) ? c : {}));
      const correct = choices.flatMap((c, i) => (c.correct === true ? [String(i + 1)] : []));
      const answer = [`Correct: ${correct.join(', ') || 'none'}`, str(value.explanation)].filter(Boolean).join('\n\n');
      return [
        '**Quiz**',
        str(value.question),
        choices.map((c, i) => `${i + 1}. ${escapeMarkdown(str(c.text))}`).join('\n'),
        details('Answer', answer),
      ].filter(Boolean).join('\n\n');
    }
    case 'exercise': {
      if (!isObject(value)) return '';
      const solution = flattenStream(value.solution, opts);
      return [
        `### Exercise: ${escapeMarkdown(str(value.title))}`,
        flattenStream(value.instructions, opts),
        solution ? details('Solution', solution) : '',
      ].filter(Boolean).join('\n\n');
    }
    default:
      return `*${escapeMarkdown(type)} block*\n\n${fence('json', JSON.stringify(value, null, 2))}`;
  }
}
