import { createHash } from 'node:crypto';
import { lineEditRuns } from './line-diff.js';

const CONTEXT = 3;
const NO_BLOB = '0000000';

/**
 * The page file's change as `git diff` prints it (3 lines of context, no indent
 * heuristic): the `diff --git` header, `new file mode` / `deleted file mode` when a
 * side is absent (null text), `index` with 7-character blob ids (computed from the text
 * when a blob id is not given), and hunks in git's `@@ -l,s +l,s @@` form, with
 * `\ No newline at end of file` where a side lacks its final newline. Equal texts give
 * an empty string. Lines are compared with their newline, as git does, and ambiguous
 * edits are placed as git places them (see compactChanges); for large rewrites git's
 * own heuristics may still choose another, equally valid, script.
 * After `@@`, as git's default diff driver does, comes the nearest line above the hunk
 * that starts with a letter, `_` or `$` (never, in a pretty-printed page file). `path`
 * is printed as given (git would quote one with unusual characters; page paths never
 * have them).
 */
export function unifiedPatch(args: { path: string; fromText: string | null; toText: string | null; fromBlob: string | null; toBlob: string | null }): string {
  const { path, fromText, toText } = args;
  if (fromText === null && toText === null) return '';
  if (fromText === toText) return '';
  const fromId = fromText === null ? NO_BLOB : (args.fromBlob ?? gitBlobId(fromText)).slice(0, 7);
  const toId = toText === null ? NO_BLOB : (args.toBlob ?? gitBlobId(toText)).slice(0, 7);

  let out = `diff --git a/${path} b/${path}\n`;
  if (fromText === null) out += `new file mode 100644\nindex ${fromId}..${toId}\n`;
  else if (toText === null) out += `deleted file mode 100644\nindex ${fromId}..${toId}\n`;
  else out += `index ${fromId}..${toId} 100644\n`;

  const a = fileLines(fromText ?? '');
  const b = fileLines(toText ?? '');
  // An empty file created or deleted: git prints the header alone.
  if (a.length === 0 && b.length === 0) return out;
  out += `--- ${fromText === null ? '/dev/null' : `a/${path}`}\n`;
  out += `+++ ${toText === null ? '/dev/null' : `b/${path}`}\n`;
  return out + hunks(a, b);
}

/** The id git gives a file's content: sha1 of "blob <bytes>\0<content>". */
export function gitBlobId(text: string): string {
  const body = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
}

/** Lines with their "\n"; the last one lacks it when the file does not end with one. */
function fileLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

interface Change { i1: number; n1: number; i2: number; n2: number }

function hunks(a: string[], b: string[]): string {
  const runs = lineEditRuns(a, b);
  const changes: Change[] = [];
  for (const run of runs) {
    if (run.op === 'eq') continue;
    const last = changes.at(-1);
    // A deletion directly followed by an insertion is one change.
    if (last && last.i1 + last.n1 === run.aStart && last.i2 + last.n2 === run.bStart) {
      last.n1 += run.aEnd - run.aStart;
      last.n2 += run.bEnd - run.bStart;
    } else {
      changes.push({ i1: run.aStart, n1: run.aEnd - run.aStart, i2: run.bStart, n2: run.bEnd - run.bStart });
    }
  }
  let out = '';
  const funcName = { text: '', searchedDownTo: -1 };
  for (let c = 0; c < changes.length;) {
    // Changes at most 2×CONTEXT unchanged lines apart share a hunk.
    let e = c;
    while (e + 1 < changes.length) {
      const prev = changes[e] as Change;
      if ((changes[e + 1] as Change).i1 - (prev.i1 + prev.n1) > 2 * CONTEXT) break;
      e++;
    }
    out += hunk(a, b, changes.slice(c, e + 1), funcName);
    c = e + 1;
  }
  return out;
}

function hunk(a: string[], b: string[], group: Change[], funcName: { text: string; searchedDownTo: number }): string {
  const first = group[0] as Change;
  const last = group.at(-1) as Change;
  const s1 = Math.max(first.i1 - CONTEXT, 0);
  const s2 = Math.max(first.i2 - CONTEXT, 0);
  const trailing = Math.min(CONTEXT, a.length - (last.i1 + last.n1), b.length - (last.i2 + last.n2));
  const e1 = last.i1 + last.n1 + trailing;
  const e2 = last.i2 + last.n2 + trailing;
  // Like git, search up to where the previous hunk's search started; keep its name if none is found.
  for (let l = s1 - 1; l > funcName.searchedDownTo; l--) {
    const name = functionName(a[l] as string);
    if (name !== null) { funcName.text = name; break; }
  }
  funcName.searchedDownTo = s1 - 1;
  let out = `@@ -${range(s1, e1 - s1)} +${range(s2, e2 - s2)} @@${funcName.text ? ` ${funcName.text}` : ''}\n`;
  let i = s1;
  for (const ch of group) {
    for (; i < ch.i1; i++) out += line(' ', a[i] as string);
    for (let k = 0; k < ch.n1; k++) out += line('-', a[ch.i1 + k] as string);
    for (let k = 0; k < ch.n2; k++) out += line('+', b[ch.i2 + k] as string);
    i = ch.i1 + ch.n1;
  }
  for (; i < e1; i++) out += line(' ', a[i] as string);
  return out;
}

/** git's hunk range: 1-based start, count omitted when 1, and `l,0` (the line before) when empty. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

function line(mark: string, text: string): string {
  return text.endsWith('\n') ? mark + text : `${mark}${text}\n\\ No newline at end of file\n`;
}

/** git's default funcname rule: a line starting with an ASCII letter, `_` or `$`, cut to 80 bytes, right-trimmed. */
function functionName(text: string): string | null {
  if (!/^[A-Za-z_$]/.test(text)) return null;
  return Buffer.from(text, 'utf8').subarray(0, 80).toString('utf8').replace(/[ \t\n\v\f\r]+$/, '');
}
