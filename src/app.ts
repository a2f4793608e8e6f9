import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Redis } from 'ioredis';
import type { Tracer } from '@opentelemetry/api';
import type { ErrorReporter } from './observability/errorTracking.ts';
import type { Config } from './config.ts';
import { createPipelinedConnection, type PipelinedConnection } from './db/pipelined.ts';
import type { Pool } from './db/pool.ts';
import { KassaError } from './ledger/errors.ts';
import { registerAuthentication } from './http/auth.ts';
import type { RouteContext } from './http/context.ts';
import { registerErrorHandling } from './http/errors.ts';
import { problem, sendProblem } from './http/problem.ts';
import { InFlightKeys } from './http/idempotency.ts';
import { registerInputGuard } from './http/inputGuard.ts';
import { securityHeaders } from './http/securityHeaders.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { validatorCompiler } from './http/validation.ts';
import { authRoutes } from './http/routes/auth.ts';
import { currencyRoutes } from './http/routes/currencies.ts';
import { fundsRoutes } from './http/routes/funds.ts';
import { healthRoutes } from './http/routes/health.ts';
import { ledgerRoutes } from './http/routes/ledger.ts';
import { transferRoutes } from './http/routes/transfers.ts';
import { userRoutes } from './http/routes/users.ts';
import { walletRoutes } from './http/routes/wallets.ts';
import { eventRoutes } from './http/routes/events.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';
import { consoleRoutes } from './http/routes/console.ts';
import { EventNotifier } from './events/notifier.ts';
import { createPublisher, type Publisher } from './events/publisher.ts';
import { brokerConsumer, startEventRelay } from './events/relay.ts';
import { startWebhookDelivery } from './events/webhookDelivery.ts';
import { webhookSecretKey } from './events/webhookSigning.ts';
import { webhookConsumer } from './store/webhooks.ts';
import type { TransferWriter } from './services/moveMoney.ts';
import { Tokens } from './services/tokens.ts';
import { createCoalescingWriter } from './services/coalescer.ts';
import { startHoldExpiry } from './services/holdExpiry.ts';
import { sealKey, startSealer } from './services/sealer.ts';
import { loadCurrencies } from './store/currencies.ts';
import { postTransfers } from './store/transfers.ts';

export const bodySizeMaxBytes = 1024 * 1024;
/** Transfers in one coalesced write: large enough for a full batch request and then some. */
export const ledgerBatchTransfersMax = 2_000;
/** Money requests allowed to wait for a writer before new ones are refused with 503. */
export const ledgerQueueMax = 20_000;
const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppDependencies {
  config: Config;
  pool: Pool;
  jwtSecret: string;
  redis?: Redis | undefined;
  /** How transfers reach the ledger; defaults to the coalescer over the batch write function. */
  write?: TransferWriter | undefined;
  logger?: boolean | Record<string, unknown>;
  /** Void expired holds in the background (the server does; tests call the sweep themselves). */
  sweepExpiredHolds?: boolean | undefined;
  /** Seal a signed ledger checkpoint this often (the server does; tests seal themselves). */
  sealIntervalMs?: number | undefined;
  /** Sequence events, relay them to the broker and deliver webhooks in the background (the server does). */
  relayEvents?: boolean | undefined;
  /** Where events go; defaults to the broker EVENTS_URL names, if any. */
  publisher?: Publisher | undefined;
  /** Traces HTTP requests, queries and publishes when given (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracer?: Tracer | undefined;
  /** Reports 5xx errors and failures of background work when given (SENTRY_DSN). */
  errorReporter?: ErrorReporter | undefined;
}

/** Never log secrets: passwords, tokens, or national ids. */
export const logRedactPaths = [
  'req.headers.authorization',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.national_id',
  'body.password',
  'body.refresh_token',
  'body.national_id',
];

/** Builds the HTTP app with every plugin registered explicitly; listening is the caller's job. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = createServer(deps);
  let publisher = deps.publisher ?? (deps.config.eventsUrl ? await createPublisher(deps.config.eventsUrl, deps.config.eventsTopic) : undefined);
  let traceWriter: ((connection: PipelinedConnection) => void) | undefined;
  if (deps.tracer) {
    const { instrumentPool, registerHttpTracing, traceQueries, tracedPublisher } = await import('./observability/instrumentation.ts'); // loaded only when tracing
    const tracer = deps.tracer;
    registerHttpTracing(app, tracer);
    instrumentPool(deps.pool, tracer);
    traceWriter = (connection) => traceQueries(connection, tracer);
    if (publisher) publisher = tracedPublisher(publisher, tracer, deps.config.eventsTopic);
  }
  if (publisher) app.addHook('onClose', () => publisher.close());
  const metrics = createMetrics(deps.pool, publisher ? [brokerConsumer, webhookConsumer] : [webhookConsumer]);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  const tokens = new Tokens(deps.jwtSecret, deps.pool);
  await registerEdge(app, deps, tokens);
  await registerDocs(app);
  app.get('/metrics', { config: { access: 'public', rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const ctx: RouteContext = {
    config: deps.config,
    pool: deps.pool,
    currencies: await loadCurrencies(deps.pool),
    tokens,
    write: deps.write ?? ledgerWriter(app, deps, metrics, traceWriter),
    inFlight: new InFlightKeys(),
    metrics,
    sealKey: sealKey(deps.jwtSecret),
    webhookSecretKey: webhookSecretKey(deps.jwtSecret),
    broker: publisher?.name,
    notifier: new EventNotifier(deps.pool, (error) => app.log.error({ err: error }, 'listening for events failed')),
  };
  app.addHook('onClose', async () => ctx.notifier.close());
  startBackgroundWork(app, deps, ctx, publisher);
  await app.register(healthRoutes, { pool: deps.pool, redis: deps.redis, publisher });
  await app.register(userRoutes, ctx);
  await app.register(authRoutes, { ...ctx, loginLimit: { max: deps.config.loginAttemptsPer15Minutes, timeWindow: '15 minutes' } });
  await app.register(currencyRoutes, ctx);
  await app.register(walletRoutes, ctx);
  await app.register(transferRoutes, ctx);
  await app.register(fundsRoutes, ctx);
  await app.register(ledgerRoutes, ctx);
  await app.register(eventRoutes, ctx);
  await app.register(webhookRoutes, ctx);
  await app.register(consoleRoutes);
  return app;
}

/** Fastify with strict validation, problem+json for every failure, and request ids. */
function createServer(deps: AppDependencies): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ? { ...(typeof deps.logger === 'object' ? deps.logger : {}), redact: logRedactPaths } : false,
    bodyLimit: bodySizeMaxBytes,
    trustProxy: deps.config.trustProxy,
    requestIdHeader: false,
    // Errors raised before routing (a URL that does not decode) get problem details too.
    frameworkErrors: (error, request, reply) => {
      sendProblem(reply, problem('validation_failed', request.id, error.message));
    },
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  registerErrorHandling(app, deps.errorReporter && ((error, request) =>
    deps.errorReporter!.report(error, { requestId: request.id, method: request.method, route: request.routeOptions.url })));
  registerInputGuard(app);
  const headers = securityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers).header('x-request-id', request.id);
    done();
  });
  return app;
}

/** CORS, authentication, then rate limits (which key on the authenticated caller). */
async function registerEdge(app: FastifyInstance, deps: AppDependencies, tokens: Tokens): Promise<void> {
  const { config } = deps;
  // Only with origins to allow: disabled, the plugin still ran a hook per request (~7% of the API's
  // CPU in the uniform benchmark) to add nothing, and answered preflights with a 404 as Kassa does.
  if (config.corsOrigins.length > 0) {
    await app.register(cors, { origin: config.corsOrigins, exposedHeaders: ['x-request-id', 'idempotent-replayed', 'retry-after'] });
  }
  registerAuthentication(app, tokens);
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler', // after authentication, so a signed-in caller is limited per user, others per address
    max: config.rateLimitPerMinute,
    timeWindow: '1 minute',
    keyGenerator: (request: FastifyRequest) => (request.caller ? `user:${request.caller.userId}` : `ip:${request.ip}`),
    enableDraftSpec: true, // RateLimit-Limit / -Remaining / -Reset headers
    redis: deps.redis,
    nameSpace: 'kassa-rate-limit:',
    skipOnError: true, // Redis down: serve rather than refuse everyone
    errorResponseBuilder: (_request, context) => new KassaError('rate_limited', `rate limit of ${context.max} requests per ${context.after} exceeded; retry after the Retry-After seconds`),
  });
}

/** OpenAPI 3.1 from the route schemas, and the interactive reference served locally. */
async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Kassa API', version: '1.0.0', description: 'Digital wallet and double-entry ledger. Money is always a decimal string.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), access: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}

/**
 * The coalescer over the batch write function, one pipelined connection per writer (a writer's next
 * batch waits on its connection while the last is written). Clients that hang up do not cancel
 * their writes: close waits for them.
 */
function ledgerWriter(app: FastifyInstance, deps: AppDependencies, metrics: Metrics, trace?: (connection: PipelinedConnection) => void): TransferWriter {
  const connections = Array.from({ length: deps.config.ledgerWritersMax }, () => createPipelinedConnection(deps.pool));
  if (trace) connections.forEach(trace);
  const leastBusy = () => connections.reduce((best, connection) => (connection.pending < best.pending ? connection : best));
  const writer = createCoalescingWriter({
    writeBatch: async (requests) => {
      metrics.ledgerBatchRequests.observe(requests.length);
      const stopTimer = metrics.ledgerWriteDuration.startTimer();
      try {
        return await postTransfers(leastBusy(), requests);
      } finally {
        stopTimer();
      }
    },
    inFlightMax: deps.config.ledgerWritersMax,
    batchTransfersMax: ledgerBatchTransfersMax,
    queueMax: ledgerQueueMax,
  });
  app.addHook('onClose', async () => {
    await writer.whenIdle();
    await Promise.all(connections.map((connection) => connection.end()));
  });
  return writer;
}

/** Hold expiry, checkpoint sealing and the event relay with webhook delivery, when asked for; all stop when the app closes. */
function startBackgroundWork(app: FastifyInstance, deps: AppDependencies, ctx: RouteContext, publisher: Publisher | undefined): void {
  const stops: (() => unknown)[] = [];
  const logError = (what: string) => (error: unknown) => {
    app.log.error({ err: error }, what);
    deps.errorReporter?.report(error, { task: what });
  };
  if (deps.sweepExpiredHolds) stops.push(startHoldExpiry(deps.pool, ctx.write, logError('expiring holds failed')));
  if (deps.sealIntervalMs) stops.push(startSealer(deps.pool, ctx.sealKey, deps.sealIntervalMs, logError('sealing a checkpoint failed')));
  if (deps.relayEvents) {
    const relay = startEventRelay({
      pool: deps.pool,
      currencies: ctx.currencies,
      publisher,
      onPublished: (count) => ctx.metrics.eventsDelivered.inc({ sink: publisher?.name ?? 'broker' }, count),
      onBrokerFailure: () => ctx.metrics.eventDeliveryFailures.inc({ sink: publisher?.name ?? 'broker' }),
      onError: logError('relaying events failed'),
    });
    const delivery = startWebhookDelivery({
      pool: deps.pool,
      currencies: ctx.currencies,
      secretKey: ctx.webhookSecretKey,
      retryScheduleSeconds: deps.config.webhookRetryScheduleSeconds,
      disableAfterSeconds: deps.config.webhookDisableAfterSeconds,
      onAttempt: (succeeded) => (succeeded ? ctx.metrics.eventsDelivered : ctx.metrics.eventDeliveryFailures).inc({ sink: 'webhook' }),
      onError: logError('delivering webhooks failed'),
    });
    stops.push(() => relay.stop(), () => delivery.stop());
  }
  app.addHook('onClose', async () => {
    await Promise.all(stops.map((stop) => stop()));
  });
}
