import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { KassaError } from '../../ledger/errors.ts';
import type { RouteContext } from '../context.ts';
import { CurrencySchema, listOf, problemResponses } from '../schemas.ts';

export const currencyRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/currencies', {
    config: { access: 'public' },
    schema: { summary: 'Currencies the ledger holds', tags: ['currencies'], response: { 200: listOf(CurrencySchema), ...problemResponses(429) } },
  }, async () => ({ data: [...ctx.currencies.values()], next_cursor: null }));

  app.get('/v1/currencies/:code', {
    config: { access: 'public' },
    schema: {
      summary: 'One currency',
      tags: ['currencies'],
      params: Type.Object({ code: Type.String({ maxLength: 10 }) }),
      response: { 200: CurrencySchema, ...problemResponses(400, 404, 429) },
    },
  }, async (request) => {
    const currency = ctx.currencies.get(request.params.code.toUpperCase());
    if (!currency) throw new KassaError('currency_not_found', `no currency ${request.params.code}`);
    return currency;
  });
};
