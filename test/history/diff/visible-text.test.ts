import { describe, expect, it } from 'vitest';
import { visibleText } from '../../../src/history/diff/visible-text.js';

describe('visibleText', () => {
  it('drops tags, decodes references and breaks lines where blocks end', () => {
    expect(visibleText('<h2>Tensors</h2><p>A <b>tensor</b> &amp; its <code>shape</code>&nbsp;&#x1F600;<br>next</p><ul><li>one</li><li>two</li></ul>'))
      .toBe('Tensors\nA tensor & its shape\u00a0😀\nnext\none\ntwo');
  });

  it('collapses whitespace as a browser does', () => {
    expect(visibleText('<p>  a \n  b  </p>\n\n<p> c</p>')).toBe('a b\nc');
    expect(visibleText('<p></p>')).toBe('');
  });
});
