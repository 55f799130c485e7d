import { randomBytes } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { webhookDeliveries, webhooks } from '../db/schema.js';
import { Errors, type FieldError } from '../errors.js';
import { CONTENT_EVENT_TYPES, type ContentEventType } from '../events/content-event.js';

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export interface WebhookInput {
  url: string;
  events: ContentEventType[];
  description: string | null;
}

const FIELDS = ['url', 'events', 'description'];
const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION_LENGTH = 500;

/** 32 random bytes: the key receivers check signatures with. */
export const generateWebhookSecret = () => randomBytes(32).toString('base64url');

const isEventType = (v: unknown): v is ContentEventType => typeof v === 'string' && (CONTENT_EVENT_TYPES as readonly string[]).includes(v);

function checkUrl(raw: unknown, errors: FieldError[]): string | null {
  const fail = (message: string) => { errors.push({ path: '/url', message }); return null; };
  if (typeof raw !== 'string' || raw.trim() === '') return fail('must be an absolute http(s) URL');
  if (raw.length > MAX_URL_LENGTH) return fail(`must be at most ${MAX_URL_LENGTH} characters long`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail('must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('must be an absolute http(s) URL');
  // Credentials in a URL end up in logs and listings; receivers check the signature instead.
  if (url.username || url.password) return fail('must not contain a user name or password');
  return url.href;
}

function checkEvents(raw: unknown, errors: FieldError[]): ContentEventType[] {
  const expected = `must be one of ${CONTENT_EVENT_TYPES.join(', ')}`;
  if (!Array.isArray(raw)) {
    errors.push({ path: '/events', message: `must be a list of event types (${CONTENT_EVENT_TYPES.join(', ')})` });
    return [];
  }
  if (raw.length === 0) errors.push({ path: '/events', message: `must name at least one event type (${CONTENT_EVENT_TYPES.join(', ')})` });
  const out: ContentEventType[] = [];
  raw.forEach((v, i) => {
    if (!isEventType(v)) errors.push({ path: `/events/${i}`, message: expected });
    else if (!out.includes(v)) out.push(v);
  });
  return out;
}

/** The body of POST /api/v2/webhooks/, checked field by field; a 400 names every bad field. */
export function parseWebhookInput(body: unknown): WebhookInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.badRequest(['the request body must be a JSON object']);
  const input = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) errors.push({ path: `/${key}`, message: `is not a webhook field (${FIELDS.join(', ')})` });
  }
  if (!('url' in input)) errors.push({ path: '/url', message: 'is required' });
  const url = 'url' in input ? checkUrl(input.url, errors) : null;
  if (!('events' in input)) errors.push({ path: '/events', message: 'is required' });
  const events = 'events' in input ? checkEvents(input.events, errors) : [];
  let description: string | null = null;
  if (input.description !== undefined && input.description !== null) {
    if (typeof input.description !== 'string') errors.push({ path: '/description', message: 'must be a string' });
    else if ([...input.description].length > MAX_DESCRIPTION_LENGTH) errors.push({ path: '/description', message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters long` });
    else description = input.description.trim() || null;
  }
  if (errors.length || url === null) throw Errors.validation([errors.map((e) => `${e.path} ${e.message}`).join('; ')], { errors });
  return { url, events, description };
}

/** Registers a webhook; the row carries the new secret, which the caller shows once. */
export async function createWebhook(db: Db, body: unknown, createdBy: number | null): Promise<WebhookRow> {
  const input = parseWebhookInput(body);
  const [row] = await db.insert(webhooks).values({ ...input, secret: generateWebhookSecret(), createdBy }).returning();
  return row!;
}

export function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return db.select().from(webhooks).orderBy(webhooks.id);
}

export async function getWebhook(db: Db, id: number): Promise<WebhookRow> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!row) throw Errors.webhookNotFound([id]);
  return row;
}

/** Deletes a webhook and its delivery log; deliveries under way finish, none start. */
export async function deleteWebhook(db: Db, id: number): Promise<void> {
  const rows = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  if (!rows.length) throw Errors.webhookNotFound([id]);
}

/** A webhook's delivery log, newest first. */
export async function listDeliveries(db: Db, webhookId: number, limit: number, offset: number): Promise<{ total: number; rows: DeliveryRow[] }> {
  await getWebhook(db, webhookId);
  const where = eq(webhookDeliveries.webhookId, webhookId);
  const [rows, counted] = await Promise.all([
    db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.id)).limit(limit).offset(offset),
    db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(webhookDeliveries).where(where),
  ]);
  return { total: counted[0]?.n ?? 0, rows };
}
