import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { KassaError } from '../../ledger/errors.ts';
import { buildOrder } from '../../services/moveMoney.ts';
import { isOperator, requireCaller } from '../auth.ts';
import type { RouteContext } from '../context.ts';
import { idempotencyClaim } from '../idempotency.ts';
import { runIdempotent, sendTransferResult } from '../money.ts';
import { AmountInput, CurrencyCode, IdempotencyHeaders, TransferSchema, Uuid, problemResponses } from '../schemas.ts';

const FundsBody = Type.Object(
  {
    wallet_id: Uuid,
    amount: AmountInput,
    currency: CurrencyCode,
    reference: Type.Optional(Type.String({ maxLength: 255, description: 'Your reference, e.g. the bank transfer id' })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/** Deposits and withdrawals: transfers between a wallet and the currency's system account. */
export const fundsRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const schema = (summary: string) => ({
    summary,
    tags: ['funds'],
    headers: IdempotencyHeaders,
    body: FundsBody,
    response: { 201: TransferSchema, ...problemResponses(400, 401, 403, 404, 409, 413, 422, 429) },
  });

  app.post('/v1/deposits', {
    config: { access: 'customer' },
    schema: schema('Credit a wallet from outside the ledger (operators; owners too when ALLOW_SELF_DEPOSIT=true)'),
  }, async (request, reply) => {
    const caller = requireCaller(request);
    const operator = isOperator(caller);
    if (!operator && !ctx.config.allowSelfDeposit) throw new KassaError('forbidden', 'deposits need the operator role');
    const claim = idempotencyClaim(request, caller.userId);
    const order = buildOrder('deposit', request.body, ctx.currencies, operator ? undefined : caller.userId);
    const outcome = await runIdempotent(ctx, request, reply, claim, (idempotency) =>
      ctx.write({ idempotency, actorId: caller.userId, requestId: request.id, transfers: [order] }),
    );
    return outcome && sendTransferResult(ctx, reply, outcome, request.id);
  });

  app.post('/v1/withdrawals', {
    config: { access: 'customer' },
    schema: schema('Pay money out of a wallet (its owner, or an operator)'),
  }, async (request, reply) => {
    const caller = requireCaller(request);
    const claim = idempotencyClaim(request, caller.userId);
    const order = buildOrder('withdrawal', request.body, ctx.currencies, isOperator(caller) ? undefined : caller.userId);
    const outcome = await runIdempotent(ctx, request, reply, claim, (idempotency) =>
      ctx.write({ idempotency, actorId: caller.userId, requestId: request.id, transfers: [order] }),
    );
    return outcome && sendTransferResult(ctx, reply, outcome, request.id);
  });
};

