import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { KassaError } from '../../ledger/errors.ts';
import { formatAmount } from '../../ledger/money.ts';
import { balanceAt, listEntries } from '../../store/entries.ts';
import { getUser } from '../../store/users.ts';
import { createWallet, listUserWallets } from '../../store/wallets.ts';
import { walletForCaller } from '../access.ts';
import { isOperator, requireCaller } from '../auth.ts';
import type { RouteContext } from '../context.ts';
import { decodeIntegerCursor, decodeTimeIdCursor, encodeCursor } from '../pagination.ts';
import { renderEntry, renderWallet, scaleOf } from '../render.ts';
import { CurrencyCode, EntrySchema, IdParams, Money, PageQuery, Timestamp, Uuid, WalletSchema, listOf, problemResponses } from '../schemas.ts';

export const walletRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/wallets', {
    config: { access: 'customer' },
    schema: {
      summary: 'Your wallets (operators: any user with ?user_id=)',
      tags: ['wallets'],
      querystring: Type.Object({ user_id: Type.Optional(Uuid), ...PageQuery }, { additionalProperties: false }),
      response: { 200: listOf(WalletSchema), ...problemResponses(400, 401, 403, 429) },
    },
  }, async (request) => {
    const caller = requireCaller(request);
    const { user_id: userId = caller.userId, limit = 20, cursor } = request.query;
    if (userId !== caller.userId && !isOperator(caller)) throw new KassaError('forbidden', "listing another user's wallets needs the operator role");
    const page = await listUserWallets(ctx.pool, userId, { limit, before: decodeTimeIdCursor('wallets', cursor) });
    return {
      data: page.items.map((wallet) => renderWallet(wallet, ctx.currencies)),
      next_cursor: page.next && encodeCursor('wallets', [page.next.createdAt.toISOString(), page.next.id]),
    };
  });

  app.post('/v1/wallets', {
    config: { access: 'customer' },
    schema: {
      summary: 'Open a wallet in another currency (one per currency)',
      tags: ['wallets'],
      body: Type.Object({ currency: CurrencyCode }, { additionalProperties: false }),
      response: { 201: WalletSchema, ...problemResponses(400, 401, 404, 409, 413, 429) },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request);
    const { currency } = request.body;
    if (!ctx.currencies.has(currency)) throw new KassaError('currency_not_found', `${currency} is not a currency this ledger holds`);
    if (!(await getUser(ctx.pool, caller.userId))) throw new KassaError('user_not_found', 'the user of this token no longer exists');
    const wallet = await createWallet(ctx.pool, caller.userId, currency);
    if (!wallet) throw new KassaError('wallet_exists', `you already have a ${currency} wallet`);
    reply.code(201);
    return renderWallet(wallet, ctx.currencies);
  });

  app.get('/v1/wallets/:id', {
    config: { access: 'customer' },
    schema: {
      summary: 'A wallet with its posted, pending and available balances',
      tags: ['wallets'],
      params: IdParams,
      response: { 200: WalletSchema, ...problemResponses(400, 401, 404, 429) },
    },
  }, async (request) => renderWallet(await walletForCaller(ctx, requireCaller(request), request.params.id), ctx.currencies));

  app.get('/v1/wallets/:id/entries', {
    config: { access: 'customer' },
    schema: {
      summary: "A wallet's balance history: one signed entry per posting, newest first",
      tags: ['wallets'],
      params: IdParams,
      querystring: Type.Object({ ...PageQuery, from: Type.Optional(Timestamp), to: Type.Optional(Timestamp) }, { additionalProperties: false }),
      response: { 200: listOf(EntrySchema), ...problemResponses(400, 401, 404, 429) },
    },
  }, async (request) => {
    const wallet = await walletForCaller(ctx, requireCaller(request), request.params.id);
    const { limit = 20, cursor, from, to } = request.query;
    const page = await listEntries(ctx.pool, wallet.id, {
      limit,
      before: decodeIntegerCursor('entries', cursor),
      from: from === undefined ? undefined : new Date(from),
      to: to === undefined ? undefined : new Date(to),
    });
    const scale = scaleOf(ctx.currencies, wallet.currency);
    return {
      data: page.items.map((entry) => renderEntry(entry, scale)),
      next_cursor: page.next === null ? null : encodeCursor('entries', [page.next]),
    };
  });

  app.get('/v1/wallets/:id/balance', {
    config: { access: 'customer' },
    schema: {
      summary: 'The posted balance of a wallet at a point in time',
      tags: ['wallets'],
      params: IdParams,
      querystring: Type.Object({ at: Type.Optional(Timestamp) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ wallet_id: Uuid, currency: CurrencyCode, at: Timestamp, balance: Money }),
        ...problemResponses(400, 401, 404, 429),
      },
    },
  }, async (request) => {
    const wallet = await walletForCaller(ctx, requireCaller(request), request.params.id);
    const at = request.query.at === undefined ? new Date() : new Date(request.query.at);
    const balance = await balanceAt(ctx.pool, wallet.id, at);
    return { wallet_id: wallet.id, currency: wallet.currency, at: at.toISOString(), balance: formatAmount(balance, scaleOf(ctx.currencies, wallet.currency)) };
  });
};
