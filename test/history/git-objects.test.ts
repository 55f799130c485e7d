import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeObject, encodeTree } from '../../src/history/git-objects.js';

describe('git object encoding agrees with the git binary', () => {
  let dir: string;
  const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', dir, ...args], { encoding: 'utf8', input }).trim();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lectern-objects-'));
    execFileSync('git', ['init', '--bare', '--quiet', dir]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes blobs as git hash-object does, UTF-8 included', () => {
    const text = '{\n  "title": "딥러닝 기초"\n}\n';
    expect(encodeObject('blob', Buffer.from(text)).oid).toBe(git(['hash-object', '--stdin'], text));
  });

  it('orders and encodes trees as git mktree does', () => {
    const blob = git(['hash-object', '-w', '--stdin'], 'x');
    const sub = git(['mktree'], `100644 blob ${blob}\tinner.json\n`);
    const names = ['10.json', '2.json', 'a-b', 'a.b', 'é.json', 'Z', 'pages'];
    const entries = names.map((name) => (name === 'pages'
      ? { mode: '040000' as const, name, oid: sub }
      : { mode: '100644' as const, name, oid: blob }));
    const listing = entries.map((e) => `${e.mode === '040000' ? '040000 tree' : '100644 blob'} ${e.oid}\t${e.name}`).join('\n');
    expect(encodeObject('tree', encodeTree(entries)).oid).toBe(git(['mktree'], `${listing}\n`));
  });
});
