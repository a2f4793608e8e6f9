import type { FastifyPluginAsync } from 'fastify';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { newWebhookSecret, sealSecret } from '../../events/webhookSigning.ts';
import { KassaError } from '../../ledger/errors.ts';
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, setWebhookEnabled, type Webhook } from '../../store/webhooks.ts';
import type { RouteContext } from '../context.ts';
import { decodeTimeIdCursor, encodeCursor } from '../pagination.ts';
import { IdParams, PageQuery, Timestamp, Uuid, eventTypes, listOf, nullable, problemResponses } from '../schemas.ts';

const webhookFields = {
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean({ description: 'False once the endpoint failed for too long (or was turned off); its messages wait' }),
  failing_since: nullable(Timestamp),
  disabled_at: nullable(Timestamp),
  created_at: Timestamp,
};
const WebhookSchema = Type.Object(webhookFields, { title: 'Webhook' });
const CreatedWebhookSchema = Type.Object(
  { ...webhookFields, secret: Type.String({ description: 'The Standard Webhooks signing secret (`whsec_…`); shown only here' }) },
  { title: 'Created webhook' },
);
const DeliverySchema = Type.Object(
  {
    id: Uuid,
    webhook_id: Uuid,
    event_id: Uuid,
    event_type: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
    response_status: nullable(Type.Integer()),
    error: nullable(Type.String()),
    duration_ms: Type.Integer(),
    next_attempt_at: nullable(Type.String({ format: 'date-time', description: 'When the next retry is due; null when none will follow' })),
    created_at: Timestamp,
  },
  { title: 'Delivery attempt' },
);
const EventTypeFilter = Type.Union([...eventTypes.map((type) => Type.Literal(type)), Type.Literal('*')]);

function renderWebhook(webhook: Webhook) {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    enabled: webhook.enabled,
    failing_since: webhook.failingSince?.toISOString() ?? null,
    disabled_at: webhook.disabledAt?.toISOString() ?? null,
    created_at: webhook.createdAt.toISOString(),
  };
}

function page<T extends { createdAt: Date; id: string }, W>(list: string, items: T[], limit: number, render: (item: T) => W) {
  const shown = items.slice(0, limit);
  const last = shown[shown.length - 1];
  return { data: shown.map(render), next_cursor: items.length > limit && last ? encodeCursor(list, [last.createdAt.toISOString(), last.id]) : null };
}

/** Webhook endpoints and their delivery attempts: operators only. */
export const webhookRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/webhooks', {
    config: { access: 'operator' },
    schema: {
      summary: 'Register an endpoint for events (signed per Standard Webhooks)',
      tags: ['webhooks'],
      body: Type.Object(
        {
          url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives a POST per event' }),
          events: Type.Array(EventTypeFilter, { minItems: 1, maxItems: 20, uniqueItems: true, description: 'Event types, or "*" for all' }),
        },
        { additionalProperties: false },
      ),
      response: { 201: CreatedWebhookSchema, ...problemResponses(400, 401, 403, 413) },
    },
  }, async (request, reply) => {
    const { url, events } = request.body;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) {
      throw new KassaError('validation_failed', 'url must be an absolute http(s) URL without credentials', [{ pointer: '/url', detail: 'not an http(s) URL' }]);
    }
    const secret = newWebhookSecret();
    const webhook = await createWebhook(ctx.pool, { url: parsed.href, events, sealedSecret: sealSecret(ctx.webhookSecretKey, secret) });
    reply.code(201);
    return { ...renderWebhook(webhook), secret };
  });

  app.get('/v1/webhooks', {
    config: { access: 'operator' },
    schema: {
      summary: 'Registered endpoints, newest first',
      tags: ['webhooks'],
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: { 200: listOf(WebhookSchema), ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const limit = request.query.limit ?? 20;
    const webhooks = await listWebhooks(ctx.pool, { limit: limit + 1, before: decodeTimeIdCursor('webhooks', request.query.cursor) });
    return page('webhooks', webhooks, limit, renderWebhook);
  });

  app.get('/v1/webhooks/:id', {
    config: { access: 'operator' },
    schema: { summary: 'One endpoint', tags: ['webhooks'], params: IdParams, response: { 200: WebhookSchema, ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const webhook = await getWebhook(ctx.pool, request.params.id);
    if (!webhook) throw new KassaError('not_found', 'no webhook has this id');
    return renderWebhook(webhook);
  });

  app.patch('/v1/webhooks/:id', {
    config: { access: 'operator' },
    schema: {
      summary: 'Turn an endpoint on (after fixing it: its waiting messages go out) or off',
      tags: ['webhooks'],
      params: IdParams,
      body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
      response: { 200: WebhookSchema, ...problemResponses(400, 401, 403, 404, 413) },
    },
  }, async (request) => {
    const webhook = await setWebhookEnabled(ctx.pool, request.params.id, request.body.enabled);
    if (!webhook) throw new KassaError('not_found', 'no webhook has this id');
    return renderWebhook(webhook);
  });

  app.delete('/v1/webhooks/:id', {
    config: { access: 'operator' },
    schema: { summary: 'Remove an endpoint, its queue and its delivery history', tags: ['webhooks'], params: IdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    if (!(await deleteWebhook(ctx.pool, request.params.id))) throw new KassaError('not_found', 'no webhook has this id');
    reply.code(204);
  });

  app.get('/v1/webhooks/:id/deliveries', {
    config: { access: 'operator' },
    schema: {
      summary: 'Every delivery attempt to an endpoint, newest first',
      tags: ['webhooks'],
      params: IdParams,
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: { 200: listOf(DeliverySchema), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    if (!(await getWebhook(ctx.pool, request.params.id))) throw new KassaError('not_found', 'no webhook has this id');
    const limit = request.query.limit ?? 20;
    const deliveries = await listDeliveries(ctx.pool, request.params.id, { limit: limit + 1, before: decodeTimeIdCursor('deliveries', request.query.cursor) });
    return page('deliveries', deliveries, limit, (delivery) => ({
      id: delivery.id,
      webhook_id: delivery.webhookId,
      event_id: delivery.eventId,
      event_type: delivery.eventType,
      attempt: delivery.attempt,
      status: delivery.succeeded ? ('succeeded' as const) : ('failed' as const),
      response_status: delivery.responseStatus,
      error: delivery.error,
      duration_ms: delivery.durationMs,
      next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
      created_at: delivery.createdAt.toISOString(),
    }));
  });
};
