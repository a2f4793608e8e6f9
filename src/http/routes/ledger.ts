import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { verifyLedger } from '../../store/verify.ts';
import type { RouteContext } from '../context.ts';
import { CurrencyCode, Timestamp, problemResponses } from '../schemas.ts';
import { formatAmount } from '../../ledger/money.ts';
import { scaleOf } from '../render.ts';

const VerificationSchema = Type.Object({
  ok: Type.Boolean(),
  checked_at: Timestamp,
  currencies: Type.Array(Type.Object({ code: CurrencyCode, total: Type.String({ description: 'Sum of every account in the currency: always "0…"' }) })),
  accounts_checked: Type.Integer(),
  mismatches: Type.Array(
    Type.Object({
      kind: Type.String(),
      account_id: Type.Optional(Type.String()),
      transfer_id: Type.Optional(Type.String()),
      currency: Type.Optional(Type.String()),
      detail: Type.String(),
    }),
  ),
});

export const ledgerRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/ledger/verify', {
    config: { access: 'operator' },
    schema: {
      summary: 'Prove the ledger: every currency sums to zero, balances equal their entries, entries chain, pending equals open holds',
      tags: ['ledger'],
      response: { 200: VerificationSchema, ...problemResponses(403) },
    },
  }, async () => {
    const verification = await verifyLedger(ctx.pool);
    return {
      ok: verification.ok,
      checked_at: verification.checkedAt.toISOString(),
      currencies: verification.currencies.map(({ code, total }) => ({ code, total: formatAmount(total, scaleOf(ctx.currencies, code)) })),
      accounts_checked: verification.accountsChecked,
      mismatches: verification.mismatches,
    };
  });
};
