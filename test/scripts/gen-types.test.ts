import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes } from '../../scripts/gen-types.js';

describe('generated types', () => {
  it('match the JSON Schemas they come from (run `npm run gen:types` after editing schemas/)', async () => {
    const committed = readFileSync(new URL('../../src/generated/schema-types.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await generateTypes());
  });
});
