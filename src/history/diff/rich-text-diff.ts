import type { FieldPath, RichTextChange } from '../../generated/schema-types.js';
import { visibleText } from './visible-text.js';
import { wordDiff } from './word-diff.js';

/**
 * Rich text compares by what a reader sees: word segments over the visible text. When
 * that text is the same but the HTML is not, only the formatting changed (bold, a
 * link, a paragraph's markup) and `formattingChanged` says so.
 */
export function richTextDiff(path: FieldPath, before: string, after: string): RichTextChange {
  const textBefore = visibleText(before);
  const textAfter = visibleText(after);
  return {
    path,
    kind: 'richtext',
    segments: wordDiff(textBefore, textAfter),
    formattingChanged: textBefore === textAfter && before !== after,
    before,
    after,
  };
}
