/** Python's int() on a query value: whitespace, sign and `_` between digits allowed. */
export function parsePythonInt(raw: string): number | null {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(raw)) return null;
  const n = Number(raw.trim().replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : null;
}
