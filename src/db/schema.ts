import { sql } from 'drizzle-orm';
import {
  bigint, boolean, index, integer, json, jsonb, pgTable, serial, text, timestamp, unique, uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Pages: the tree and a projection of each page's latest (draft) and live content.
 * Git holds the revisions; these columns exist so reads never touch git.
 *
 * `path` is the materialised tree path: one 6-character base-36 segment per ancestor
 * (root first) and the page itself, so `descendant_of` is a prefix match and ordering
 * by path is tree order with siblings in creation order.
 */
export const pages = pgTable('pages', {
  id: serial('id').primaryKey(),
  parentId: integer('parent_id'),
  path: text('path').notNull(),
  depth: integer('depth').notNull(),
  type: text('type').notNull(),
  /** The slug in the URL now: the live slug of a live page, else the draft slug. */
  slug: text('slug').notNull(),
  /** The slug of the latest draft (differs from `slug` while a live page's new slug is unpublished). */
  draftSlug: text('draft_slug').notNull(),
  urlPath: text('url_path').notNull(),
  live: boolean('live').notNull().default(false),
  hasUnpublishedChanges: boolean('has_unpublished_changes').notNull().default(true),
  latestRevisionId: integer('latest_revision_id').notNull(),
  liveRevisionId: integer('live_revision_id'),
  /** The page document of the latest revision, as in git at `main:pages/<NN>/<id>.json` (json, not jsonb: key order is kept). */
  draft: json('draft').notNull(),
  /** The page document on the live branch; null when not live. */
  liveContent: json('live_content'),
  liveBlob: text('live_blob'),
  /** Title and text of the live content, for `search`. */
  searchText: text('search_text').notNull().default(''),
  /** A publish scheduled for later: this revision goes live at `goLiveAt` (the scheduler does it). */
  scheduledRevisionId: integer('scheduled_revision_id'),
  goLiveAt: timestamp('go_live_at', { withTimezone: true, mode: 'date' }),
  /** When the live page is taken off the live site (the scheduler does it). */
  expireAt: timestamp('expire_at', { withTimezone: true, mode: 'date' }),
  firstPublishedAt: timestamp('first_published_at', { withTimezone: true, mode: 'date' }),
  lastPublishedAt: timestamp('last_published_at', { withTimezone: true, mode: 'date' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [
  uniqueIndex('pages_path_idx').on(t.path.op('text_pattern_ops')),
  unique('pages_parent_slug_key').on(t.parentId, t.slug).nullsNotDistinct(),
  index('pages_url_path_idx').on(t.urlPath),
  index('pages_type_slug_idx').on(t.type, t.slug),
  index('pages_parent_draft_slug_idx').on(t.parentId, t.draftSlug),
  index('pages_go_live_at_idx').on(t.goLiveAt),
  index('pages_expire_at_idx').on(t.expireAt),
]);

/** One row per commit on `main`: every save of a page (create, update, move, revert, delete). */
export const revisions = pgTable('revisions', {
  /** Taken with nextval before the commit is written: the commit's Revision-Id trailer names it. */
  id: serial('id').primaryKey(),
  pageId: integer('page_id').notNull(),
  commit: text('commit').notNull(),
  /** The page file's blob; null for a delete. */
  blob: text('blob'),
  action: text('action').notNull(),
  authorName: text('author_name').notNull(),
  tokenId: integer('token_id'),
  message: text('message').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
}, (t) => [
  index('revisions_page_idx').on(t.pageId, t.id),
  uniqueIndex('revisions_commit_idx').on(t.commit),
]);

/**
 * What each revision did to each block (top-level and nested): the index behind a block's
 * history ("who last touched this cell"), so it is read without walking git.
 */
export const blockChanges = pgTable('block_changes', {
  id: serial('id').primaryKey(),
  pageId: integer('page_id').notNull(),
  revisionId: integer('revision_id').notNull(),
  blockId: text('block_id').notNull(),
  blockType: text('block_type').notNull(),
  /** added, changed, removed, or unchanged when the block only moved. */
  op: text('op').notNull(),
  moved: boolean('moved').notNull().default(false),
  /** The stream field of the top-level block it is in (body…). */
  field: text('field').notNull(),
  /** The block it is nested in, for list items and blocks of nested streams. */
  parentBlockId: text('parent_block_id'),
  authorName: text('author_name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
}, (t) => [index('block_changes_block_idx').on(t.pageId, t.blockId, t.revisionId)]);

/** One row per commit on `live` (publish, unpublish, and moves/deletes of live pages). */
export const liveCommits = pgTable('live_commits', {
  id: serial('id').primaryKey(),
  pageId: integer('page_id').notNull(),
  revisionId: integer('revision_id'),
  commit: text('commit').notNull(),
  blob: text('blob'),
  action: text('action').notNull(),
  authorName: text('author_name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
}, (t) => [index('live_commits_page_idx').on(t.pageId, t.id)]);

/**
 * Where each branch should point. Written in the same transaction as the revision
 * rows, before the git ref moves, so a ref that lags after a crash is repaired from here.
 */
export const gitRefs = pgTable('git_refs', {
  name: text('name').primaryKey(),
  commit: text('commit').notNull(),
});

/**
 * The version of what the live site shows: bumped in the same transaction as any write
 * a public reader could notice (the live branch moved, URL paths changed). Public read
 * caches of every process are keyed on it; draft saves leave it alone.
 */
export const liveVersion = pgTable('live_version', {
  id: integer('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
});

/**
 * Every run of a jupyter block, for operators: who ran what where, how it ended, how
 * long it took and how much it printed. The code itself is kept only as a hash.
 */
export const executions = pgTable('executions', {
  id: text('id').primaryKey(),
  pageId: integer('page_id').notNull(),
  blockId: text('block_id').notNull(),
  tokenId: integer('token_id').notNull(),
  learner: text('learner').notNull(),
  environment: text('environment').notNull(),
  kernelspec: text('kernelspec').notNull(),
  gateway: text('gateway').notNull(),
  sessionId: text('session_id'),
  codeHash: text('code_hash').notNull(),
  codeBytes: integer('code_bytes').notNull(),
  /** The learner's edit was run rather than the block's stored code. */
  edited: boolean('edited').notNull(),
  status: text('status').notNull(),
  message: text('message'),
  executionCount: integer('execution_count'),
  /** The outputs as served (sanitized, capped), once the run ended. */
  outputs: json('outputs'),
  outputBytes: integer('output_bytes').notNull().default(0),
  truncated: boolean('truncated').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
  finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  durationMs: integer('duration_ms'),
}, (t) => [
  index('executions_token_idx').on(t.tokenId, t.createdAt),
  index('executions_block_idx').on(t.pageId, t.blockId),
]);

export const tokens = pgTable('tokens', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email'),
  role: text('role').notNull(),
  /** sha256 of the token; the token itself is never stored. */
  hash: text('hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
}, (t) => [uniqueIndex('tokens_hash_idx').on(t.hash)]);

/** Small key/value facts about this installation (for example that the admin token was shown). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
});

/**
 * The image library (DESIGN.md §3): metadata here, the original in the storage adapter
 * under `fileKey` (never derived from the uploaded file's name). `fileHash` makes a
 * second upload of the same bytes find the first.
 */
export const images = pgTable('images', {
  id: serial('id').primaryKey(),
  title: text('title').notNull(),
  fileKey: text('file_key').notNull(),
  /** sha256 of the original's bytes, hex. */
  fileHash: text('file_hash').notNull(),
  fileSize: integer('file_size').notNull(),
  /** png, jpeg, webp, gif or avif: judged from the bytes. */
  format: text('format').notNull(),
  width: integer('width').notNull(),
  height: integer('height').notNull(),
  /** The focal point as a rectangle in original pixels (Wagtail's focal_point_x/y/width/height: x and y are its centre). */
  focalPointX: integer('focal_point_x'),
  focalPointY: integer('focal_point_y'),
  focalPointWidth: integer('focal_point_width'),
  focalPointHeight: integer('focal_point_height'),
  tags: jsonb('tags').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  uploadedBy: integer('uploaded_by'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [uniqueIndex('images_file_hash_idx').on(t.fileHash)]);

/**
 * Renditions made so far: one per image, filter spec and focal point, so the second
 * request for one does no image work. The file's key includes all three, so its URL is
 * stable and can be cached forever.
 */
export const imageRenditions = pgTable('image_renditions', {
  id: serial('id').primaryKey(),
  imageId: integer('image_id').notNull().references(() => images.id, { onDelete: 'cascade' }),
  /** The canonical filter spec ("fill-800x450-c50|format-webp"). */
  filterSpec: text('filter_spec').notNull(),
  /** The focal point the rendition was cut around ("" without one). */
  focalPointKey: text('focal_point_key').notNull(),
  fileKey: text('file_key').notNull(),
  fileSize: integer('file_size').notNull(),
  mime: text('mime').notNull(),
  width: integer('width').notNull(),
  height: integer('height').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [uniqueIndex('image_renditions_spec_idx').on(t.imageId, t.filterSpec, t.focalPointKey)]);

/** The document library: any file, stored under a key of its own; the original file name is kept for downloads only. */
export const documents = pgTable('documents', {
  id: serial('id').primaryKey(),
  title: text('title').notNull(),
  fileKey: text('file_key').notNull(),
  fileHash: text('file_hash').notNull(),
  fileSize: bigint('file_size', { mode: 'number' }).notNull(),
  /** The uploaded file's name, cleaned (no path, no control characters), for Content-Disposition. */
  fileName: text('file_name').notNull(),
  contentType: text('content_type').notNull(),
  tags: jsonb('tags').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  uploadedBy: integer('uploaded_by'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [index('documents_file_hash_idx').on(t.fileHash)]);

/**
 * Webhooks: URLs editors registered for content events. `secret` signs each delivery
 * (X-Lectern-Signature); it is shown once, when the webhook is created.
 */
export const webhooks = pgTable('webhooks', {
  id: serial('id').primaryKey(),
  url: text('url').notNull(),
  /** The content event types delivered (`page.published`…). */
  events: jsonb('events').$type<string[]>().notNull(),
  secret: text('secret').notNull(),
  description: text('description'),
  active: boolean('active').notNull().default(true),
  /** The token that registered it (tokens are revoked, never deleted). */
  createdBy: integer('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * One event to send to one webhook, and how sending it went: the outbox every process's
 * dispatcher claims due rows from (FOR UPDATE SKIP LOCKED), so each is sent by one of them.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: serial('id').primaryKey(),
  webhookId: integer('webhook_id').notNull().references(() => webhooks.id, { onDelete: 'cascade' }),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  /** The body sent (serialized in a fixed key order at each attempt). */
  payload: jsonb('payload').notNull(),
  status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
  /** Attempts begun, counted when a dispatcher claims the row. */
  attempts: integer('attempts').notNull().default(0),
  /** When it is due; while an attempt is under way, the end of the claiming dispatcher's lease. */
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
}, (t) => [
  unique('webhook_deliveries_event_key').on(t.webhookId, t.eventId),
  index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
]);
