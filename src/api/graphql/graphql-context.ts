import type { FastifyRequest } from 'fastify';
import { can, PERMISSION_VERBS, type Permission } from '../../auth/roles.js';
import type { Principal } from '../../auth/tokens.js';
import type { Actor } from '../../content/content-context.js';
import type { Version } from '../../content/queries/page-fields.js';
import { Errors } from '../../errors.js';
import type { LecternServices } from '../../services.js';

/** What every resolver gets: the services, who asks, and where the API is reached. */
export interface GraphQLContext {
  lectern: LecternServices;
  principal: Principal | null;
  /** scheme://host of this API, for detail URLs. */
  apiOrigin: string;
  /** scheme://host of the frontend, for html_url. */
  siteOrigin: string;
}

/** The same rules as REST (request-auth.ts): no token → 401 code, a role that may not → 403 code. */
export function requireGraphQL(ctx: GraphQLContext, permission: Permission): Principal {
  const p = ctx.principal;
  if (!p) throw Errors.unauthenticated();
  if (!can(p.role, permission)) throw Errors.forbidden([p.role, PERMISSION_VERBS[permission]]);
  return p;
}

export function actorOf(ctx: GraphQLContext): Actor {
  const p = requireGraphQL(ctx, 'write:pages');
  return { name: p.name, email: p.email, tokenId: p.tokenId };
}

/** `version: DRAFT` is for editors and reviewers, as `?version=draft` is. */
export function versionOf(ctx: GraphQLContext, asked: string | null | undefined): Version {
  if (!asked || asked === 'LIVE') return 'live';
  requireGraphQL(ctx, 'read:drafts');
  return 'draft';
}

/** A bearer token from an Authorization header value, or from a connection_init payload. */
export async function principalFromAuthorization(lectern: LecternServices, header: unknown): Promise<Principal | null> {
  if (header === undefined || header === null || header === '') return null;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw Errors.badToken();
  const principal = await lectern.auth.authenticate(m[1]!);
  if (!principal) throw Errors.badToken();
  return principal;
}

export const originsOf = (req: FastifyRequest, lectern: LecternServices) => {
  const api = `${req.protocol}://${req.host}`;
  return { apiOrigin: api, siteOrigin: lectern.config.siteUrl ?? api };
};
