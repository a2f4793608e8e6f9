import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KassaError } from '../ledger/errors.ts';
import type { Caller, Tokens } from '../services/tokens.ts';
import type { Role } from '../store/users.ts';

export type Access = 'public' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route. A route that does not say is admin-only: access fails closed. */
    access?: Access;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const rank: Record<Role, number> = { customer: 1, operator: 2, admin: 3 };

export function isOperator(caller: Caller): boolean {
  return rank[caller.role] >= rank.operator;
}

export function requireCaller(request: FastifyRequest): Caller {
  if (!request.caller) throw new KassaError('unauthenticated'); // the hook guarantees a caller on non-public routes
  return request.caller;
}

export function registerAuthentication(app: FastifyInstance, tokens: Tokens): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
      if (!match) throw new KassaError('unauthenticated', 'send the access token as "Authorization: Bearer <token>"');
      request.caller = await tokens.verifyAccessToken(match[1]!);
    }
    if (request.is404) return;
    const access = request.routeOptions.config.access ?? 'admin';
    if (access === 'public') return;
    if (!request.caller) throw new KassaError('unauthenticated', 'this endpoint needs an access token');
    if (rank[request.caller.role] < rank[access]) throw new KassaError('forbidden', `this endpoint needs the ${access} role`);
  });
}
