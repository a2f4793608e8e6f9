import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { verifyLedger } from '../../store/verify.ts';
import type { RouteContext } from '../context.ts';
import { CurrencyCode, Money, Timestamp, problemResponses } from '../schemas.ts';
import { KassaError } from '../../ledger/errors.ts';
import { findReceipt } from '../../store/receipts.ts';
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
  chain: Type.Object(
    { ok: Type.Boolean(), entries_checked: Type.Integer(), checkpoints_checked: Type.Integer() },
    { description: 'Every entry re-hashed from its fields and its predecessor; every sealed checkpoint replayed and its signature checked' },
  ),
});

const ReceiptSchema = Type.Object(
  {
    hash: Type.String(),
    kind: Type.String(),
    status: Type.String(),
    amount: Money,
    currency: CurrencyCode,
    created_at: Timestamp,
    verified: Type.Boolean({ description: 'The hash recomputes from the stored transfer and its entries' }),
  },
  { title: 'Receipt', description: 'Shareable proof of a posted transfer: no wallet or user ids' },
);

export const ledgerRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/receipts/:hash', {
    config: { access: 'public' },
    schema: {
      summary: 'A shareable receipt for a posted transfer, by its hash',
      tags: ['ledger'],
      params: Type.Object({ hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'The transfer hash (SHA-256, hex)' }) }),
      response: { 200: ReceiptSchema, ...problemResponses(400, 404) },
    },
  }, async (request) => {
    const receipt = await findReceipt(ctx.pool, request.params.hash);
    if (!receipt) throw new KassaError('not_found', 'no posted transfer has this hash');
    return {
      hash: receipt.hash,
      kind: receipt.kind,
      status: receipt.status,
      amount: formatAmount(receipt.amount, scaleOf(ctx.currencies, receipt.currency)),
      currency: receipt.currency,
      created_at: receipt.createdAt.toISOString(),
      verified: receipt.verified,
    };
  });

  app.get('/v1/ledger/verify', {
    config: { access: 'operator' },
    schema: {
      summary: 'Prove the ledger: every currency sums to zero, balances equal their entries, entries chain, pending equals open holds',
      tags: ['ledger'],
      response: { 200: VerificationSchema, ...problemResponses(403) },
    },
  }, async () => {
    const verification = await verifyLedger(ctx.pool, { sealKey: ctx.sealKey });
    return {
      ok: verification.ok,
      checked_at: verification.checkedAt.toISOString(),
      currencies: verification.currencies.map(({ code, total }) => ({ code, total: formatAmount(total, scaleOf(ctx.currencies, code)) })),
      accounts_checked: verification.accountsChecked,
      mismatches: verification.mismatches,
      chain: { ok: verification.chain.ok, entries_checked: verification.chain.entriesChecked, checkpoints_checked: verification.chain.checkpointsChecked },
    };
  });
};
