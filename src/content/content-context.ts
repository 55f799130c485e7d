import type { BlockRegistry } from '../blocks/block-registry.js';
import type { Database } from '../db/client.js';
import type { RevisionStore } from '../history/revision-store.js';
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
  /** Called in the writing process when a write changed what the live site shows (drops public caches). */
  onLiveChange: (liveVersion: number) => void;
  /** The clock; tests replace it. */
  now: () => Date;
}
