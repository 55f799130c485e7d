import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../../src/history/diff/line-diff.js';

describe('lineDiff', () => {
  it('covers both texts: eq+del lines joined by newlines give the old code, eq+ins the new', () => {
    const before = 'import torch\n\nx = torch.ones(2, 3)\nprint(x)\n';
    const after = 'import torch\nimport numpy as np\n\nx = torch.ones(2, 3)\ny = x.numpy()\nprint(y)\n';
    const hunks = lineDiff(before, after);
    expect(hunks).toEqual([
      { op: 'eq', lines: ['import torch'] },
      { op: 'ins', lines: ['import numpy as np'] },
      { op: 'eq', lines: ['', 'x = torch.ones(2, 3)'] },
      { op: 'del', lines: ['print(x)'] },
      { op: 'ins', lines: ['y = x.numpy()', 'print(y)'] },
      { op: 'eq', lines: [''] },
    ]);
    expect(hunks.filter((h) => h.op !== 'ins').flatMap((h) => h.lines).join('\n')).toBe(before);
    expect(hunks.filter((h) => h.op !== 'del').flatMap((h) => h.lines).join('\n')).toBe(after);
  });

  it('treats an empty text as no lines', () => {
    expect(lineDiff('', 'print(1)')).toEqual([{ op: 'ins', lines: ['print(1)'] }]);
    expect(lineDiff('print(1)', '')).toEqual([{ op: 'del', lines: ['print(1)'] }]);
  });

  it('places a repeated line where git would: the inserted copy is the later one', () => {
    expect(lineDiff('for x in xs:\n    step()\n', 'for x in xs:\n    step()\n    step()\n')).toEqual([
      { op: 'eq', lines: ['for x in xs:', '    step()'] },
      { op: 'ins', lines: ['    step()'] },
      { op: 'eq', lines: [''] },
    ]);
  });
});
