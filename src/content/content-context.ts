import type { BlockRegistry } from '../blocks/block-registry.js';
import type { Database } from '../db/client.js';
import type { Heads, RevisionStore } from '../history/revision-store.js';
import type { PageTypeRegistry } from './page-types.js';

/** Who is writing: the token's user. Becomes the git author of the commit. */
export interface Actor {
  name: string;
  email: string | null;
  tokenId: number | null;
}

/** What content operations need; built once by app.ts. */
export interface ContentContext {
  database: Database;
  blocks: BlockRegistry;
  types: PageTypeRegistry;
  revisions: RevisionStore;
  /** Called in the writing process right after a write's refs moved (drops read caches). */
  onCommitted: (heads: Heads) => void;
  /** The clock; tests replace it. */
  now: () => Date;
}
