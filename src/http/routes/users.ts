import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { KassaError } from '../../ledger/errors.ts';
import { hashPassword } from '../../services/passwords.ts';
import { createUserWithWallet, getUser, setUserRole } from '../../store/users.ts';
import { requireCaller } from '../auth.ts';
import type { RouteContext } from '../context.ts';
import { renderUser, renderWallet } from '../render.ts';
import { CurrencyCode, IdParams, UserSchema, WalletSchema, problemResponses } from '../schemas.ts';

export const Username = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$', description: '3 to 32 letters, digits, `_`, `.` or `-`' });
export const Password = Type.String({ minLength: 10, maxLength: 256, description: 'At least 10 characters' });

const RegisterBody = Type.Object(
  {
    username: Username,
    password: Password,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    national_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    currency: Type.Optional(CurrencyCode),
  },
  { additionalProperties: false },
);

export const userRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/users', {
    config: { access: 'public' },
    schema: {
      summary: 'Register a user; their first wallet is created with them',
      tags: ['users'],
      body: RegisterBody,
      response: { 201: Type.Object({ user: UserSchema, wallet: WalletSchema }), ...problemResponses(400, 404, 409, 413, 429) },
    },
  }, async (request, reply) => {
    const body = request.body;
    const currency = body.currency ?? ctx.config.defaultCurrency;
    if (!ctx.currencies.has(currency)) throw new KassaError('currency_not_found', `${currency} is not a currency this ledger holds`);
    const created = await createUserWithWallet(
      ctx.pool,
      { username: body.username, passwordHash: await hashPassword(body.password), name: body.name, email: body.email, nationalId: body.national_id },
      currency,
    );
    if (!created) throw new KassaError('username_taken', `the username ${body.username} is taken`);
    reply.code(201);
    return { user: renderUser(created.user), wallet: renderWallet(created.wallet, ctx.currencies) };
  });

  app.get('/v1/me', {
    config: { access: 'customer' },
    schema: { summary: 'The calling user', tags: ['users'], response: { 200: UserSchema, ...problemResponses(401, 404, 429) } },
  }, async (request) => {
    const user = await getUser(ctx.pool, requireCaller(request).userId);
    if (!user) throw new KassaError('user_not_found', 'the user of this token no longer exists');
    return renderUser(user);
  });

  app.patch('/v1/users/:id', {
    config: { access: 'admin' },
    schema: {
      summary: "Change a user's role (admins)",
      tags: ['users'],
      params: IdParams,
      body: Type.Object({ role: Type.Union([Type.Literal('customer'), Type.Literal('operator'), Type.Literal('admin')]) }, { additionalProperties: false }),
      response: { 200: UserSchema, ...problemResponses(400, 401, 403, 404, 429) },
    },
  }, async (request) => {
    const user = await setUserRole(ctx.pool, request.params.id, request.body.role);
    if (!user) throw new KassaError('user_not_found', `no user ${request.params.id}`);
    return renderUser(user);
  });
};
