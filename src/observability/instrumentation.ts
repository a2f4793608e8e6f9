// Kassa's spans: one per HTTP request (named by route, carrying the request id), one per
// PostgreSQL query (the SQL text with placeholders, never the values), one per broker publish.
// Headers, bodies and query values are never recorded, so no password, token or secret can
// reach a span. Loaded only when tracing is on.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pool, PoolClient } from '../db/pool.ts';
import type { Publisher } from '../events/publisher.ts';

const queryTextMax = 2_000;
const spans = new WeakMap<FastifyRequest, Span>();
const instrumented = Symbol('kassa.traced');

export function registerHttpTracing(app: FastifyInstance, tracer: Tracer): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const parent = propagation.extract(context.active(), request.headers); // W3C traceparent from a caller
    const span = tracer.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0], 'kassa.request_id': request.id },
    }, parent);
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done); // the rest of the request runs inside the span
  });
  app.addHook('onError', async (request, _reply, error) => {
    spans.get(request)?.recordException({ name: error.name, message: error.message });
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** Every query through this client (a pool's, or a writer's pipelined connection) gets a span. */
export function traceQueries(client: { query: unknown }, tracer: Tracer): void {
  const tagged = client as { query: unknown; [instrumented]?: true };
  if (tagged[instrumented]) return;
  tagged[instrumented] = true;
  const query = (client.query as (...args: unknown[]) => unknown).bind(client);
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const first = args[0] as { text?: string; submit?: unknown } | string;
    if (typeof first === 'object' && typeof first.submit === 'function') return query(...args); // a cursor or stream
    const text = (typeof first === 'string' ? first : first.text ?? '').replace(/\s+/g, ' ').trim();
    const span = tracer.startSpan(`pg ${text.split(' ')[0]?.toLowerCase() ?? 'query'}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql', 'db.query.text': text.slice(0, queryTextMax) },
    });
    const finish = (error: unknown, result?: { rowCount?: number | null }) => {
      if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as { code?: string }).code ?? 'query failed' });
      else if (typeof result?.rowCount === 'number') span.setAttribute('db.response.returned_rows', result.rowCount);
      span.end();
    };
    // pg-pool's own pool.query calls client.query with a callback; everything else uses the promise.
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as (error: unknown, result?: unknown) => void) : undefined;
    if (callback) {
      return query(...args, (error: unknown, result?: { rowCount?: number | null }) => {
        finish(error, result);
        callback(error, result);
      });
    }
    return (query(...args) as Promise<{ rowCount?: number | null }>).then(
      (result) => {
        finish(undefined, result);
        return result;
      },
      (error: unknown) => {
        finish(error);
        throw error;
      },
    );
  };
}

/** Every query through this pool, whether by pool.query or a checked-out client, gets a span. */
export function instrumentPool(pool: Pool, tracer: Tracer): void {
  const connect = pool.connect.bind(pool) as (callback?: (error: Error | undefined, client?: PoolClient, release?: unknown) => void) => unknown;
  (pool as { connect: unknown }).connect = (callback?: (error: Error | undefined, client?: PoolClient, release?: unknown) => void) => {
    if (callback) {
      return connect((error, client, release) => {
        if (client) traceQueries(client, tracer);
        callback(error, client, release);
      });
    }
    return (connect() as Promise<PoolClient>).then((client) => {
      traceQueries(client, tracer);
      return client;
    });
  };
}

export function tracedPublisher(publisher: Publisher, tracer: Tracer, topic: string): Publisher {
  return {
    ...publisher,
    publish: (events) =>
      tracer.startActiveSpan(`publish ${topic}`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': publisher.name, 'messaging.destination.name': topic, 'messaging.batch.message_count': events.length },
      }, async (span) => {
        try {
          await publisher.publish(events);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      }),
  };
}
