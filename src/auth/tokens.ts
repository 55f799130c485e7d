import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { settings, tokens } from '../db/schema.js';
import { isRole, type Role } from './roles.js';

export type TokenRow = typeof tokens.$inferSelect;

export interface Principal {
  tokenId: number;
  name: string;
  email: string | null;
  role: Role;
}

const PREFIX = 'lct_';

/** 32 random bytes; the prefix lets secret scanners recognise a leaked token. */
export const generateToken = () => `${PREFIX}${randomBytes(32).toString('base64url')}`;
/** Tokens are stored only as their sha256: a database dump yields no usable token. */
export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export async function createToken(db: Db, args: { name: string; role: Role; email?: string | null; token?: string }): Promise<{ id: number; token: string }> {
  const token = args.token ?? generateToken();
  const [row] = await db.insert(tokens).values({ name: args.name, role: args.role, email: args.email ?? null, hash: hashToken(token) }).returning({ id: tokens.id });
  return { id: row!.id, token };
}

export async function listTokens(db: Db): Promise<TokenRow[]> {
  return db.select().from(tokens).orderBy(desc(tokens.id));
}

export async function revokeToken(db: Db, id: number): Promise<boolean> {
  const rows = await db.update(tokens).set({ revokedAt: new Date() }).where(and(eq(tokens.id, id), isNull(tokens.revokedAt))).returning({ id: tokens.id });
  return rows.length > 0;
}

export async function findActiveToken(db: Db, token: string): Promise<Principal | null> {
  const [row] = await db.select().from(tokens).where(and(eq(tokens.hash, hashToken(token)), isNull(tokens.revokedAt))).limit(1);
  if (!row || !isRole(row.role)) return null;
  return { tokenId: row.id, name: row.name, email: row.email, role: row.role };
}

/**
 * Looks tokens up with a short-lived cache: a read-heavy API should not hash-and-query on
 * every request, and a revoked token stops working within `ttlMs`.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, { principal: Principal | null; expires: number }>();

  constructor(private readonly db: Db, private readonly ttlMs = 5_000) {}

  async authenticate(token: string): Promise<Principal | null> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.expires > now) return hit.principal;
    const principal = await findActiveToken(this.db, token);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal, expires: now + this.ttlMs });
    // At most once per cache period per token; a failure here must not fail the request.
    if (principal) {
      this.db.update(tokens).set({ lastUsedAt: new Date(now) }).where(eq(tokens.id, principal.tokenId)).then(() => {}, () => {});
    }
    return principal;
  }

  forget(): void {
    this.cache.clear();
  }
}

const BOOTSTRAP_KEY = 'admin_token_issued';

/**
 * First start: create the admin token and return it so the caller prints it, once. When
 * `adminToken` is set (containers, automation), that value is the admin token instead
 * and nothing is printed. Later starts return null. Runs under the migration lock.
 */
export async function bootstrapAdminToken(db: Db, adminToken: string | null): Promise<string | null> {
  if (adminToken) {
    const [existing] = await db.select({ id: tokens.id }).from(tokens).where(eq(tokens.hash, hashToken(adminToken))).limit(1);
    if (!existing) await createToken(db, { name: 'admin', role: 'admin', token: adminToken });
    await db.insert(settings).values({ key: BOOTSTRAP_KEY, value: { source: 'ADMIN_TOKEN' } }).onConflictDoNothing();
    return null;
  }
  const inserted = await db.insert(settings).values({ key: BOOTSTRAP_KEY, value: { source: 'generated' } })
    .onConflictDoNothing().returning({ key: settings.key });
  if (inserted.length === 0) return null;
  const { token } = await createToken(db, { name: 'admin', role: 'admin' });
  return token;
}
