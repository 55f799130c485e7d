import { and, eq, exists, inArray, lte, sql } from 'drizzle-orm';
import type { WebhookConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { webhookDeliveries, webhooks } from '../db/schema.js';
import type { ContentEvent } from '../events/content-event.js';
import { SIGNATURE_HEADER, signWebhook } from './sign-webhook.js';
import type { DeliveryRow } from './webhook-store.js';

/** The JSON body of a delivery: the content event as it was told. */
export type WebhookPayload = Pick<ContentEvent, 'id' | 'type' | 'page' | 'ancestors' | 'revision' | 'actor' | 'at'>;

export interface DispatcherOptions {
  /** Failures of the dispatcher itself (the database), and deliveries given up on. */
  log(err: unknown, msg: string): void;
  now?: () => Date;
  /** Sends under way at once in this process. */
  concurrency?: number;
  /** How long stop() lets sends under way run on before it cuts them short (default: the timeout, at most 5 s). */
  stopGraceMs?: number;
}

const MAX_RETRY_DELAY_MS = 3_600_000;
/** Added to the send timeout for the claim's lease: long enough to record the outcome. */
const LEASE_MARGIN_MS = 60_000;
const MAX_STOP_GRACE_MS = 5_000;
/** How long stop() waits for cut-short sends to be put back. */
const RELEASE_WAIT_MS = 2_000;
const MAX_ERROR_LENGTH = 500;
/** How long "are there active webhooks?" is trusted before a save asks the database again. */
const ACTIVE_TTL_MS = 1_000;

/** The wait after the `attempts`-th failed attempt: retryBaseMs, then four times longer each time, at most an hour. */
export function retryDelayMs(retryBaseMs: number, attempts: number): number {
  return Math.min(retryBaseMs * 4 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
}

/** The payload's members, in the order they are sent. */
const payloadOf = (p: WebhookPayload): WebhookPayload =>
  ({ id: p.id, type: p.type, page: p.page, ancestors: p.ancestors, revision: p.revision, actor: p.actor, at: p.at });

/** The body sent, keys in a fixed order (jsonb does not keep the order it was given). */
export const serializePayload = (p: WebhookPayload): string => JSON.stringify(payloadOf(p));

type Outcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'failed'; status: number | null; error: string }
  /** Cut short by stop(): not the receiver's fault, so the attempt is given back. */
  | { kind: 'released' };

const truncate = (s: string) => (s.length > MAX_ERROR_LENGTH ? `${s.slice(0, MAX_ERROR_LENGTH - 1)}…` : s);

function describeFetchError(err: unknown): string {
  // fetch says only "fetch failed"; the cause says what happened (ECONNREFUSED, a TLS error…).
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause : err instanceof Error ? err : null;
  if (!inner) return String(err);
  return inner.message || (inner as NodeJS.ErrnoException).code || inner.name;
}

/**
 * Delivers content events to webhooks. `enqueue` writes one delivery row per matching
 * webhook and event (the delivery log and the queue in one); every process running a
 * dispatcher claims due rows with FOR UPDATE SKIP LOCKED and a lease, so processes
 * sharing a database never send one delivery at the same time. A claim counts the
 * attempt, so a process that dies mid-send still uses one up.
 *
 * Nothing here throws to its caller's loop: failures are recorded on the delivery or logged.
 */
export class WebhookDispatcher {
  private readonly now: () => Date;
  private readonly concurrency: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly enqueues = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private poked = false;
  private wake: (() => void) | null = null;
  private activeKnown: { any: boolean; at: number } | null = null;
  private maybeRecorded = false;

  constructor(private readonly db: Db, private readonly config: WebhookConfig, private readonly opts: DispatcherOptions) {
    this.now = opts.now ?? (() => new Date());
    this.concurrency = opts.concurrency ?? 4;
  }

  /**
   * Records the deliveries of `events` inside the save's own transaction (the outbox), so
   * a save that commits always has its deliveries, even if the process dies right after.
   * In a savepoint: if recording fails, the save still commits (and the failure is
   * logged). One statement for all of a save's events, choosing the subscribed webhooks in SQL.
   */
  async recordIn(tx: Db, events: ContentEvent[]): Promise<void> {
    if (!events.length || !(await this.anyActive(tx))) return;
    const now = this.now();
    this.maybeRecorded = true;
    try {
      const values = sql.join(events.map((e) => sql`(${e.id}, ${e.type}, ${JSON.stringify(payloadOf(e))}::jsonb)`), sql`, `);
      await tx.transaction(async (sp) => {
        await sp.execute(sql`
          insert into ${webhookDeliveries} (webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
          select w.id, e.event_id, e.event_type, e.payload, 'pending', 0, ${now}, ${now}
          from ${webhooks} w join (values ${values}) as e (event_id, event_type, payload)
            on w.active and w.events @> jsonb_build_array(e.event_type)
          on conflict do nothing`);
      });
    } catch (err) {
      this.opts.log(err, 'webhook deliveries could not be recorded with the save');
    }
  }

  /**
   * Whether any webhook is active, known for a second at a time: a save then pays nothing
   * for webhooks when there are none. A webhook registered in another process is heard of
   * within that second; one registered here at once (see webhooksChanged).
   */
  private async anyActive(db: Db): Promise<boolean> {
    const now = Date.now();
    if (this.activeKnown && now - this.activeKnown.at < ACTIVE_TTL_MS) return this.activeKnown.any;
    const [row] = await db.select({ id: webhooks.id }).from(webhooks).where(eq(webhooks.active, true)).limit(1);
    this.activeKnown = { any: row !== undefined, at: now };
    return this.activeKnown.any;
  }

  /** A webhook was registered or deleted in this process: the next save looks again. */
  webhooksChanged(): void {
    this.activeKnown = null;
  }

  /** Tells the loop that deliveries were recorded (after the save's transaction committed). */
  recorded(): void {
    // Only when a save may have recorded deliveries: otherwise the loop would look for due
    // rows after every save, for nothing.
    if (!this.maybeRecorded) return;
    this.maybeRecorded = false;
    this.poke();
  }

  /** Records a delivery for each active webhook subscribed to each event. */
  enqueue(events: ContentEvent[]): Promise<void> {
    // A webhook deleted between reading the list and inserting fails the insert: the second try reads the list again.
    const p: Promise<void> = this.insert(events).catch(() => this.insert(events)).finally(() => this.enqueues.delete(p));
    this.enqueues.add(p);
    return p;
  }

  /** Delivers what is due, polling every `pollMs`, until stop(). */
  start(): void {
    if (this.loop || this.stopping || this.config.pollMs <= 0) return;
    this.loop = this.run();
  }

  /**
   * Stops claiming, waits for enqueues and for sends under way (each is bounded by the
   * timeout; after a few seconds the rest are cut short and put back, due at once).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.loop;
    // Sends end by themselves within the timeout; a shutdown waits that long, up to a few seconds.
    await settledWithin([...this.enqueues, ...this.inFlight], this.opts.stopGraceMs ?? Math.min(this.config.timeoutMs + 500, MAX_STOP_GRACE_MS));
    if (this.inFlight.size) {
      this.shutdown.abort();
      await settledWithin([...this.inFlight], RELEASE_WAIT_MS);
    }
  }

  /** One pass: claims the due deliveries there is room for and sends them. Returns how many were attempted. */
  async tick(): Promise<number> {
    const sends = await this.claimAndSend(Math.max(0, this.concurrency - this.inFlight.size));
    await Promise.all(sends);
    return sends.length;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.inFlight.size;
      const started = free > 0 ? (await this.claimAndSend(free)).length : 0;
      if (this.stopping) break;
      // Every free slot filled: more may be due, so go on when a send ends; else wait for the next poll or an enqueue.
      await this.sleep(free > 0 && started < free ? this.config.pollMs : null);
    }
  }

  private poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Until `ms` pass (null: indefinitely) or poke() is called. */
  private sleep(ms: number | null): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms === null ? null : setTimeout(() => this.wake?.(), ms);
      timer?.unref();
      this.wake = () => {
        if (timer) clearTimeout(timer);
        this.wake = null;
        this.poked = false;
        resolve();
      };
    });
  }

  private async insert(events: ContentEvent[]): Promise<void> {
    if (!events.length) return;
    const hooks = await this.db.select({ id: webhooks.id, events: webhooks.events }).from(webhooks).where(eq(webhooks.active, true));
    const now = this.now();
    const rows = events.flatMap((e) => hooks.filter((h) => h.events.includes(e.type)).map((h) => ({
      webhookId: h.id,
      eventId: e.id,
      eventType: e.type,
      payload: payloadOf(e),
      nextAttemptAt: now,
      createdAt: now,
    })));
    if (!rows.length) return;
    // The unique (webhook, event) key makes a repeated enqueue harmless.
    await this.db.insert(webhookDeliveries).values(rows).onConflictDoNothing();
    this.poke();
  }

  /** Claims up to `limit` due deliveries and starts sending them; the promises settle when each outcome is recorded. */
  private async claimAndSend(limit: number): Promise<Promise<void>[]> {
    if (limit <= 0 || this.stopping) return [];
    let claimed: { delivery: DeliveryRow; url: string; secret: string }[];
    try {
      claimed = await this.claim(limit);
    } catch (err) {
      this.opts.log(err, 'could not claim webhook deliveries');
      return [];
    }
    return claimed.map(({ delivery, url, secret }) => {
      const p: Promise<void> = this.attempt(delivery, url, secret)
        .catch((err) => this.opts.log(err, `webhook delivery ${delivery.id} could not be recorded`))
        .finally(() => {
          this.inFlight.delete(p);
          this.poke();
        });
      this.inFlight.add(p);
      return p;
    });
  }

  private async claim(limit: number) {
    const d = webhookDeliveries;
    const now = this.now();
    const due = this.db.select({ id: d.id }).from(d)
      .where(and(
        eq(d.status, 'pending'),
        lte(d.nextAttemptAt, now),
        exists(this.db.select({ one: sql`1` }).from(webhooks).where(and(eq(webhooks.id, d.webhookId), eq(webhooks.active, true)))),
      ))
      .orderBy(d.nextAttemptAt)
      .limit(limit)
      .for('update', { skipLocked: true });
    // Until the lease ends no other dispatcher sees the row as due; the attempt is counted now.
    const lease = new Date(now.getTime() + this.config.timeoutMs + LEASE_MARGIN_MS);
    const rows = await this.db.update(d).set({ attempts: sql`${d.attempts} + 1`, nextAttemptAt: lease })
      .where(inArray(d.id, due)).returning();
    if (!rows.length) return [];
    const hooks = await this.db.select({ id: webhooks.id, url: webhooks.url, secret: webhooks.secret }).from(webhooks)
      .where(inArray(webhooks.id, [...new Set(rows.map((r) => r.webhookId))]));
    const out: { delivery: DeliveryRow; url: string; secret: string }[] = [];
    for (const delivery of rows.sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id)) {
      const hook = hooks.find((h) => h.id === delivery.webhookId);
      if (!hook) continue; // deleted since: its deliveries went with it
      if (delivery.attempts > this.config.maxAttempts) {
        // The last attempt was claimed by a process that never recorded it (it stopped).
        await this.record(delivery, { kind: 'failed', status: delivery.lastStatusCode, error: 'the last attempt was cut short: the process sending it stopped' })
          .catch((err) => this.opts.log(err, `webhook delivery ${delivery.id} could not be recorded`));
        continue;
      }
      out.push({ delivery, url: hook.url, secret: hook.secret });
    }
    return out;
  }

  private async attempt(delivery: DeliveryRow, url: string, secret: string): Promise<void> {
    await this.record(delivery, await this.send(delivery, url, secret));
  }

  private async send(delivery: DeliveryRow, url: string, secret: string): Promise<Outcome> {
    const body = serializePayload(delivery.payload as WebhookPayload);
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Lectern-Webhooks',
          'x-lectern-event': delivery.eventType,
          'x-lectern-delivery': String(delivery.id),
          [SIGNATURE_HEADER.toLowerCase()]: signWebhook(secret, body, this.now()),
        },
        body,
        // A redirect is an answer, not a second address to post the event to.
        redirect: 'manual',
        signal: AbortSignal.any([timeout, this.shutdown.signal]),
      });
      // Only the status matters; dropping the body frees the connection.
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
      const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
      return { kind: 'failed', status: res.status, error: `the receiver answered ${res.status}${redirect}` };
    } catch (err) {
      if (timeout.aborted) return { kind: 'failed', status: null, error: `no answer within ${this.config.timeoutMs} ms` };
      if (this.shutdown.signal.aborted) return { kind: 'released' };
      return { kind: 'failed', status: null, error: truncate(describeFetchError(err)) };
    }
  }

  /** Writes the outcome, if the row is still this attempt's (its lease may have ended and another process taken it). */
  private async record(delivery: DeliveryRow, outcome: Outcome): Promise<void> {
    const d = webhookDeliveries;
    const mine = and(eq(d.id, delivery.id), eq(d.status, 'pending'), eq(d.attempts, delivery.attempts));
    const now = this.now();
    if (outcome.kind === 'delivered') {
      await this.db.update(d).set({ status: 'delivered', deliveredAt: now, nextAttemptAt: now, lastStatusCode: outcome.status, lastError: null }).where(mine);
    } else if (outcome.kind === 'released') {
      await this.db.update(d).set({ attempts: delivery.attempts - 1, nextAttemptAt: now }).where(mine);
    } else if (delivery.attempts >= this.config.maxAttempts) {
      await this.db.update(d).set({ status: 'failed', nextAttemptAt: now, lastStatusCode: outcome.status, lastError: outcome.error }).where(mine);
      this.opts.log(new Error(outcome.error), `webhook delivery ${delivery.id} (${delivery.eventType}) failed after ${delivery.attempts} attempts`);
    } else {
      const next = new Date(now.getTime() + retryDelayMs(this.config.retryBaseMs, delivery.attempts));
      await this.db.update(d).set({ nextAttemptAt: next, lastStatusCode: outcome.status, lastError: outcome.error }).where(mine);
    }
  }
}

/** Waits until every promise settled or `ms` passed. */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (!promises.length) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise((resolve) => { timer = setTimeout(resolve, ms); }),
  ]);
  clearTimeout(timer);
}
