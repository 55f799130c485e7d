import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/**
 * Git's object encodings, hashed and compressed with Node's native crypto and zlib.
 * isomorphic-git stores what these produce (writeObject with format "deflated"); its
 * own encoders compress through web streams, which made a save several times slower.
 */
export type ObjectType = 'blob' | 'tree' | 'commit';

export interface EncodedObject {
  oid: string;
  /** The zlib-deflated loose object, as it is stored under objects/. */
  deflated: Buffer;
}

export function encodeObject(type: ObjectType, content: Buffer): EncodedObject {
  const wrapped = Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]);
  return { oid: createHash('sha1').update(wrapped).digest('hex'), deflated: deflateSync(wrapped) };
}

export interface TreeEntry {
  mode: '100644' | '040000';
  name: string;
  oid: string;
}

const ASCII = /^[\x00-\x7f]*$/;

/** Git's order: bytes of the name, a directory compared as if its name ended in "/". */
function compareNames(a: string, b: string): number {
  // For ASCII, JS string order is byte order; otherwise compare the UTF-8 bytes.
  if (ASCII.test(a) && ASCII.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A tree object: entries in git's order, each `<mode> <name>\0<20-byte id>`. */
export function encodeTree(entries: TreeEntry[]): Buffer {
  const keyed = entries.map((e) => ({ e, k: e.mode === '040000' ? `${e.name}/` : e.name }));
  keyed.sort((a, b) => compareNames(a.k, b.k));
  let size = 0;
  const heads = keyed.map(({ e }) => {
    // Git writes directory modes without the leading zero.
    const head = `${e.mode === '040000' ? '40000' : e.mode} ${e.name}\0`;
    size += Buffer.byteLength(head, 'utf8') + 20;
    return head;
  });
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  keyed.forEach(({ e }, i) => {
    at += out.write(heads[i]!, at, 'utf8');
    at += out.write(e.oid, at, 'hex');
  });
  return out;
}

export interface Signature {
  name: string;
  email: string;
  date: Date;
}

/** Git forbids <, > and newlines in names and emails; they cannot come from a token name. */
const clean = (s: string) => s.replace(/[<>\n\r\0]/g, '').trim() || 'unknown';

function signature(s: Signature): string {
  return `${clean(s.name)} <${clean(s.email)}> ${Math.floor(s.date.getTime() / 1000)} +0000`;
}

export function encodeCommit(c: { tree: string; parents: string[]; author: Signature; committer: Signature; message: string }): Buffer {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`), `author ${signature(c.author)}`, `committer ${signature(c.committer)}`];
  const message = c.message.endsWith('\n') ? c.message : `${c.message}\n`;
  return Buffer.from(`${lines.join('\n')}\n\n${message}`, 'utf8');
}
