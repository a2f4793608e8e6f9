import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { KassaError } from '../../ledger/errors.ts';
import type { IdempotencyClaim } from '../../ledger/transfer.ts';
import { buildOrder, holdExpiresInMaxSeconds, parseMoney, runBatch, type BatchItem } from '../../services/moveMoney.ts';
import { getTransfer, listTransfers } from '../../store/transfers.ts';
import { listUserWalletIds } from '../../store/wallets.ts';
import { walletForCaller } from '../access.ts';
import { isOperator, requireCaller } from '../auth.ts';
import type { RouteContext } from '../context.ts';
import { idempotencyClaim } from '../idempotency.ts';
import { resultProblem, runIdempotent, sendTransferResult } from '../money.ts';
import { decodeIntegerCursor, encodeCursor } from '../pagination.ts';
import { renderTransfer } from '../render.ts';
import {
  AmountInput, CurrencyCode, IdempotencyHeaders, IdParams, Metadata, PageQuery, ProblemSchema, TransferSchema, Uuid, listOf, problemResponses,
} from '../schemas.ts';

export const batchSizeMax = 1_000;

const TransferBody = Type.Object(
  {
    from_wallet_id: Uuid,
    to_wallet_id: Type.Optional(Uuid),
    to_username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    amount: AmountInput,
    currency: CurrencyCode,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    metadata: Type.Optional(Metadata),
    reference: Type.Optional(Type.String({ maxLength: 255 })),
    hold: Type.Optional(Type.Boolean({ description: 'Reserve the amount (status `pending`) until captured or voided' })),
    hold_expires_in: Type.Optional(
      Type.Integer({ minimum: 1, maximum: holdExpiresInMaxSeconds, description: 'Seconds until an uncaptured hold voids itself (default 7 days)' }),
    ),
  },
  { additionalProperties: false, description: 'Give exactly one of `to_wallet_id` and `to_username`' },
);

const BatchBody = Type.Object(
  {
    transfers: Type.Array(TransferBody, { minItems: 1, maxItems: batchSizeMax }),
    atomic: Type.Optional(Type.Boolean({ description: 'All transfers post, or none do' })),
  },
  { additionalProperties: false },
);

const BatchResult = Type.Object({
  index: Type.Integer(),
  status: Type.Integer({ description: 'The status a single POST /v1/transfers would have answered' }),
  transfer: Type.Optional(TransferSchema),
  error: Type.Optional(ProblemSchema),
});

export const transferRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/transfers', {
    config: { access: 'customer' },
    schema: {
      summary: 'Send money from your wallet to another wallet or user',
      tags: ['transfers'],
      headers: IdempotencyHeaders,
      body: TransferBody,
      response: { 201: TransferSchema, ...problemResponses(400, 401, 404, 409, 413, 422, 429) },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request);
    const claim = idempotencyClaim(request, caller.userId);
    const order = buildOrder('transfer', request.body, ctx.currencies, caller.userId);
    const outcome = await runIdempotent(ctx, request, reply, claim, (idempotency) =>
      ctx.write({ idempotency, actorId: caller.userId, requestId: request.id, transfers: [order] }),
    );
    return outcome && sendTransferResult(ctx, reply, outcome, request.id);
  });

  app.post('/v1/transfers/batch', {
    config: { access: 'operator' },
    schema: {
      summary: 'Post up to 1,000 transfers in one request, each with its own result (or all or nothing)',
      tags: ['transfers'],
      headers: IdempotencyHeaders,
      body: BatchBody,
      response: { 200: Type.Object({ results: Type.Array(BatchResult) }), ...problemResponses(400, 401, 403, 409, 413, 422, 429) },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request);
    const claim = idempotencyClaim(request, caller.userId);
    const items: BatchItem[] = request.body.transfers.map((input) => {
      try {
        return { order: buildOrder('transfer', input, ctx.currencies, undefined) };
      } catch (error) {
        if (error instanceof KassaError) return { error };
        throw error;
      }
    });
    const outcome = await runIdempotent(ctx, request, reply, claim, (idempotency) =>
      runBatch(ctx.write, items, { idempotency, atomic: request.body.atomic ?? false, actorId: caller.userId, requestId: request.id }),
    );
    if (!outcome) return reply;
    const requestId = outcome.requestId ?? request.id;
    return {
      results: outcome.results.map((result, index) => {
        if (result.ok) return { index, status: 201, transfer: renderTransfer(result.transfer, ctx.currencies) };
        const error = resultProblem(result, requestId);
        return { index, status: error.status, error };
      }),
    };
  });

  async function resolveHold(action: 'capture' | 'void', request: FastifyRequest, reply: FastifyReply, transferId: string, amountText: string | undefined) {
    const caller = requireCaller(request);
    const claim = idempotencyClaim(request, caller.userId);
    const found = await getTransfer(ctx.pool, transferId);
    const mayResolve = found && (isOperator(caller) || found.fromUserId === caller.userId);
    if (!found || !mayResolve) throw new KassaError('transfer_not_found', `no transfer ${transferId}`);
    const amount = amountText === undefined ? undefined : parseMoney(amountText, ctx.currencies.get(found.transfer.currency)!);
    const order = { kind: action, transferId: found.transfer.id, ownerId: isOperator(caller) ? undefined : caller.userId, amount };
    const outcome = await runIdempotent(ctx, request, reply, claim, (idempotency) =>
      ctx.write({ idempotency, actorId: caller.userId, requestId: request.id, transfers: [order] }),
    );
    return outcome ? sendTransferResult(ctx, reply, outcome, request.id, 200) : reply;
  }

  // Both may be sent without a body (a plain `curl -X POST`); that means `{}`.
  const emptyBodyIsObject = async (request: FastifyRequest) => {
    request.body ??= {};
  };

  app.post('/v1/transfers/:id/capture', {
    config: { access: 'customer' },
    preValidation: emptyBodyIsObject,
    schema: {
      summary: 'Post a held transfer, all of it or part (the rest is released)',
      tags: ['holds'],
      headers: IdempotencyHeaders,
      params: IdParams,
      body: Type.Object({ amount: Type.Optional(AmountInput) }, { additionalProperties: false, description: 'Omit `amount` to capture all of the hold' }),
      response: { 200: TransferSchema, ...problemResponses(400, 404, 409, 413, 422) },
    },
  }, (request, reply) => resolveHold('capture', request, reply, request.params.id, request.body.amount));

  app.post('/v1/transfers/:id/void', {
    config: { access: 'customer' },
    preValidation: emptyBodyIsObject,
    schema: {
      summary: 'Release a held transfer',
      tags: ['holds'],
      headers: IdempotencyHeaders,
      params: IdParams,
      body: Type.Object({}, { additionalProperties: false }),
      response: { 200: TransferSchema, ...problemResponses(400, 404, 409, 413, 422) },
    },
  }, (request, reply) => resolveHold('void', request, reply, request.params.id, undefined));

  app.post('/v1/transfers/:id/reverse', {
    config: { access: 'operator' },
    schema: {
      summary: 'Reverse a posted transfer, fully or partly, with a new linked transfer of kind reversal',
      tags: ['transfers'],
      headers: IdempotencyHeaders,
      params: IdParams,
      body: Type.Object(
        {
          amount: Type.Optional(AmountInput),
          reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why: kept as the reversal description' }),
        },
        { additionalProperties: false, description: 'Omit `amount` to reverse all that is left' },
      ),
      response: { 201: TransferSchema, ...problemResponses(400, 403, 404, 409, 413, 422) },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request);
    // Honoured when sent (API.md does not list this endpoint among those that require it).
    const claim = request.headers['idempotency-key'] === undefined ? undefined : idempotencyClaim(request, caller.userId);
    const found = await getTransfer(ctx.pool, request.params.id);
    if (!found) throw new KassaError('transfer_not_found', `no transfer ${request.params.id}`);
    const amount = request.body.amount === undefined ? undefined : parseMoney(request.body.amount, ctx.currencies.get(found.transfer.currency)!);
    const write = (idempotency?: IdempotencyClaim) =>
      ctx.write({ idempotency, actorId: caller.userId, requestId: request.id, transfers: [{ kind: 'reversal', transferId: found.transfer.id, amount, reason: request.body.reason }] });
    const outcome = claim ? await runIdempotent(ctx, request, reply, claim, write) : await write();
    if (!outcome) return reply;
    if (!('results' in outcome)) throw new Error('a write without an idempotency key cannot conflict on one');
    return sendTransferResult(ctx, reply, outcome, request.id, 201);
  });

  app.get('/v1/transfers', {
    config: { access: 'customer' },
    schema: {
      summary: 'Transfers touching a wallet (or all of yours), newest first',
      tags: ['transfers'],
      querystring: Type.Object({ wallet_id: Type.Optional(Uuid), ...PageQuery }, { additionalProperties: false }),
      response: { 200: listOf(TransferSchema), ...problemResponses(400, 401, 404, 429) },
    },
  }, async (request) => {
    const caller = requireCaller(request);
    const { wallet_id: walletId, limit = 20, cursor } = request.query;
    const before = decodeIntegerCursor('transfers', cursor);
    let scope: { walletIds: string[] } | 'all';
    if (walletId !== undefined) scope = { walletIds: [(await walletForCaller(ctx, caller, walletId)).id] };
    else scope = isOperator(caller) ? 'all' : { walletIds: await listUserWalletIds(ctx.pool, caller.userId) };
    const page = await listTransfers(ctx.pool, scope, { limit, before });
    return {
      data: page.items.map((transfer) => renderTransfer(transfer, ctx.currencies)),
      next_cursor: page.next === null ? null : encodeCursor('transfers', [page.next]),
    };
  });

  app.get('/v1/transfers/:id', {
    config: { access: 'customer' },
    schema: {
      summary: 'One transfer, to its parties and operators',
      tags: ['transfers'],
      params: IdParams,
      response: { 200: TransferSchema, ...problemResponses(400, 401, 404, 429) },
    },
  }, async (request) => {
    const caller = requireCaller(request);
    const found = await getTransfer(ctx.pool, request.params.id);
    const isParty = found && (found.fromUserId === caller.userId || found.toUserId === caller.userId);
    if (!found || (!isParty && !isOperator(caller))) throw new KassaError('transfer_not_found', `no transfer ${request.params.id}`);
    return renderTransfer(found.transfer, ctx.currencies);
  });
};

