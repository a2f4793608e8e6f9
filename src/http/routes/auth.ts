import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type {} from '@fastify/rate-limit';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { KassaError } from '../../ledger/errors.ts';
import { verifyPassword } from '../../services/passwords.ts';
import { findUserForLogin } from '../../store/users.ts';
import { requireCaller } from '../auth.ts';
import type { RouteContext } from '../context.ts';
import { problemResponses } from '../schemas.ts';

const TokenPairSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  refresh_token: Type.String(),
});
const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export interface LoginLimit {
  max: number;
  timeWindow: string;
}

export const authRoutes: FastifyPluginAsync<RouteContext & { loginLimit: LoginLimit }> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/auth/login', {
    config: {
      access: 'public',
      // Brute force: a tight budget per client address and username, on top of the global limits.
      rateLimit: {
        max: ctx.loginLimit.max,
        timeWindow: ctx.loginLimit.timeWindow,
        keyGenerator: (request: FastifyRequest) => `login:${request.ip}:${String((request.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
      },
    },
    schema: {
      summary: 'Exchange a username and password for an access token and a refresh token',
      tags: ['auth'],
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
      response: { 200: TokenPairSchema, ...problemResponses(400, 401, 413, 429) },
    },
  }, async (request) => {
    const user = await findUserForLogin(ctx.pool, request.body.username);
    // The same answer, after the same work, whether the username exists or not.
    const valid = await verifyPassword(user?.passwordHash, request.body.password);
    if (!user || !valid) throw new KassaError('invalid_credentials', 'the username or password is wrong');
    return ctx.tokens.issue({ userId: user.id, role: user.role });
  });

  app.post('/v1/auth/refresh', {
    config: { access: 'public' },
    schema: {
      summary: 'Spend a refresh token for a new token pair; reusing a spent one revokes the session',
      tags: ['auth'],
      body: RefreshBody,
      response: { 200: TokenPairSchema, ...problemResponses(400, 401, 413, 429) },
    },
  }, async (request) => ctx.tokens.refresh(request.body.refresh_token));

  app.post('/v1/auth/logout', {
    config: { access: 'customer' },
    schema: { summary: 'End the session of a refresh token', tags: ['auth'], body: RefreshBody, response: { 204: Type.Null(), ...problemResponses(400, 401, 429) } },
  }, async (request, reply) => {
    await ctx.tokens.logout(request.body.refresh_token, requireCaller(request).userId);
    return reply.code(204).send(null);
  });
};
