import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../content/content-context.js';
import type { Version } from '../../content/queries/page-fields.js';
import { can, PERMISSION_VERBS, type Permission } from '../../auth/roles.js';
import type { Principal } from '../../auth/tokens.js';
import { Errors } from '../../errors.js';

const resolved = new WeakMap<FastifyRequest, Principal | null>();
const CHALLENGE = { 'www-authenticate': 'Bearer realm="lectern"' };

/** The token's principal, or null for an anonymous request. A bad token is a 401, not anonymity. */
export async function principalOf(req: FastifyRequest): Promise<Principal | null> {
  if (resolved.has(req)) return resolved.get(req)!;
  const header = req.headers.authorization;
  let principal: Principal | null = null;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw Errors.badToken([], { headers: CHALLENGE });
    principal = await req.server.lectern.auth.authenticate(m[1]!);
    if (!principal) throw Errors.badToken([], { headers: CHALLENGE });
  }
  resolved.set(req, principal);
  return principal;
}

export async function requirePermission(req: FastifyRequest, permission: Permission): Promise<Principal> {
  const principal = await principalOf(req);
  if (!principal) throw Errors.unauthenticated([], { headers: CHALLENGE });
  if (!can(principal.role, permission)) throw Errors.forbidden([principal.role, PERMISSION_VERBS[permission]]);
  return principal;
}

export async function requireActor(req: FastifyRequest): Promise<Actor> {
  const p = await requirePermission(req, 'write:pages');
  return { name: p.name, email: p.email, tokenId: p.tokenId };
}

/** `?version=draft` is for editors and reviewers; everyone else reads live content. */
export async function readVersion(req: FastifyRequest, raw: string | undefined): Promise<Version> {
  if (raw === undefined || raw === 'live') return 'live';
  if (raw !== 'draft') throw Errors.badQuery(["version must be 'live' or 'draft'"]);
  await requirePermission(req, 'read:drafts');
  return 'draft';
}

/** scheme://host of this API as the client reached it. */
export const apiOrigin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

/** scheme://host of the frontend site (SITE_URL), else this API's origin. */
export const siteOrigin = (req: FastifyRequest) => req.server.lectern.config.siteUrl ?? apiOrigin(req);
