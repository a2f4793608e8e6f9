import type { FastifyPluginAsync } from 'fastify';
import type { PassThrough } from 'node:stream';
import { type TypeBoxTypeProvider, Type } from '@fastify/type-provider-typebox';
import { openEventStream } from '../../events/stream.ts';
import { renderEvent } from '../../events/wire.ts';
import { KassaError } from '../../ledger/errors.ts';
import { eventStatus, lastSequence, listEvents } from '../../store/events.ts';
import { webhookConsumer } from '../../store/webhooks.ts';
import { brokerConsumer } from '../../events/relay.ts';
import { listUserWalletIds } from '../../store/wallets.ts';
import type { Caller } from '../../services/tokens.ts';
import { isOperator, requireCaller } from '../auth.ts';
import type { RouteContext } from '../context.ts';
import { EventSchema, nullable, problemResponses } from '../schemas.ts';

/** Live streams one instance holds open before it refuses new ones with 503. */
export const eventStreamsMax = 1_000;

const Sequence = Type.String({ pattern: '^[0-9]{1,19}$', description: "An event's `sequence`: only events after it" });

function parseSequence(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,19}$/.test(text)) throw new KassaError('invalid_cursor', 'Last-Event-ID must be the sequence of an event this API sent');
  return BigInt(text);
}

export const eventRoutes: FastifyPluginAsync<RouteContext> = async (base, ctx) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const streams = new Set<PassThrough>();
  app.addHook('preClose', async () => streams.forEach((stream) => stream.end())); // let the server close

  /** A customer sees the events of its own wallets; an operator sees all. */
  const walletsOf = (caller: Caller) => async () => (isOperator(caller) ? undefined : listUserWalletIds(ctx.pool, caller.userId));

  app.get('/v1/events', {
    config: { access: 'customer' },
    schema: {
      summary: 'Events after a sequence, oldest first (yours; operators: all)',
      description: 'At least once and in order: poll with `after` set to the last `sequence` you processed.',
      tags: ['events'],
      querystring: Type.Object({ after: Type.Optional(Sequence), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ data: Type.Array(EventSchema), next_cursor: nullable(Type.String({ description: 'Pass as `after` for the next page; null when this page is the last so far' })) }),
        ...problemResponses(400, 401, 429),
      },
    },
  }, async (request) => {
    const caller = requireCaller(request);
    const limit = request.query.limit ?? 20;
    const events = await listEvents(ctx.pool, { after: BigInt(request.query.after ?? '0'), limit, walletIds: await walletsOf(caller)() });
    const last = events[events.length - 1];
    return { data: events.map((event) => renderEvent(event, ctx.currencies)), next_cursor: events.length === limit && last ? last.sequence.toString() : null };
  });

  app.get('/v1/events/status', {
    config: { access: 'operator' },
    schema: {
      summary: 'Outbox and webhook health: how far each consumer has got, and how far behind it is',
      tags: ['events'],
      response: {
        200: Type.Object({
          last_sequence: Type.String(),
          unsequenced: Type.Integer({ description: 'Committed events not yet given their place (normally 0 or a few)' }),
          broker: nullable(Type.String({ description: 'rabbitmq, nats or kafka; null when EVENTS_URL is unset' })),
          consumers: Type.Array(Type.Object({ name: Type.String(), sequence: Type.String(), lag_seconds: Type.Number() })),
          webhooks: Type.Object({ enabled: Type.Integer(), disabled: Type.Integer(), pending_messages: Type.Integer(), failed_attempts_last_hour: Type.Integer() }),
        }),
        ...problemResponses(401, 403),
      },
    },
  }, async () => {
    const status = await eventStatus(ctx.pool, ctx.broker ? [brokerConsumer, webhookConsumer] : [webhookConsumer]);
    return {
      last_sequence: status.lastSequence.toString(),
      unsequenced: status.unsequenced,
      broker: ctx.broker ?? null,
      consumers: status.consumers.map((consumer) => ({ name: consumer.name, sequence: consumer.sequence.toString(), lag_seconds: consumer.lagSeconds })),
      webhooks: {
        enabled: status.webhooks.enabled,
        disabled: status.webhooks.disabled,
        pending_messages: status.webhooks.pendingMessages,
        failed_attempts_last_hour: status.webhooks.failedAttemptsLastHour,
      },
    };
  });

  app.get('/v1/events/stream', {
    config: { access: 'customer' },
    schema: {
      summary: 'The same events, live, as Server-Sent Events',
      description: 'Each message is one Event as JSON, with `id` = its sequence. Resume with `Last-Event-ID` (or `after`); without either, the stream starts with events from now on.',
      tags: ['events'],
      querystring: Type.Object({ after: Type.Optional(Sequence) }, { additionalProperties: false }),
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ description: 'The last sequence received' })) }),
      response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: Type.Unsafe<NodeJS.ReadableStream>({ type: 'string' }) } } }, ...problemResponses(400, 401, 429, 503) },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request);
    if (streams.size >= eventStreamsMax) throw new KassaError('unavailable', 'this instance holds its maximum of live streams; retry shortly');
    const header = request.headers['last-event-id'];
    const after = parseSequence(typeof header === 'string' ? header : request.query.after) ?? (await lastSequence(ctx.pool));
    const stream = openEventStream({
      pool: ctx.pool,
      notifier: ctx.notifier,
      currencies: ctx.currencies,
      after,
      walletIds: walletsOf(caller),
      onError: (error) => request.log.error({ err: error }, 'event stream failed'),
    });
    streams.add(stream);
    // A stream lives no longer than the token that opened it: the client reconnects with a fresh
    // token and Last-Event-ID, so a revoked or demoted user stops receiving events.
    const expiry = caller.tokenExpiresAtMs === undefined ? undefined : setTimeout(() => stream.end(), Math.max(0, caller.tokenExpiresAtMs - Date.now())).unref();
    stream.on('close', () => {
      streams.delete(stream);
      clearTimeout(expiry);
    });
    request.raw.on('close', () => stream.destroy());
    // Connection: close — a stream ended at shutdown must not leave an idle keep-alive socket holding the server open.
    reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-transform').header('x-accel-buffering', 'no').header('connection', 'close');
    return reply.send(stream);
  });
};
