import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Pool } from './db/pool.ts';
import { KassaError } from './ledger/errors.ts';
import { registerAuthentication } from './http/auth.ts';
import type { RouteContext } from './http/context.ts';
import { registerErrorHandling } from './http/errors.ts';
import { problem, sendProblem } from './http/problem.ts';
import { InFlightKeys } from './http/idempotency.ts';
import { registerInputGuard } from './http/inputGuard.ts';
import { createMetrics } from './http/metrics.ts';
import { validatorCompiler } from './http/validation.ts';
import { authRoutes } from './http/routes/auth.ts';
import { currencyRoutes } from './http/routes/currencies.ts';
import { fundsRoutes } from './http/routes/funds.ts';
import { healthRoutes } from './http/routes/health.ts';
import { ledgerRoutes } from './http/routes/ledger.ts';
import { transferRoutes } from './http/routes/transfers.ts';
import { userRoutes } from './http/routes/users.ts';
import { walletRoutes } from './http/routes/wallets.ts';
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
  const { config, pool } = deps;
  const app = Fastify({
    logger: deps.logger ? { ...(typeof deps.logger === 'object' ? deps.logger : {}), redact: logRedactPaths } : false,
    bodyLimit: bodySizeMaxBytes,
    trustProxy: config.trustProxy,
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
  registerErrorHandling(app);
  registerInputGuard(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const metrics = createMetrics(pool);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await app.register(helmet, { contentSecurityPolicy: false, global: true });
  await app.register(cors, { origin: config.corsOrigins.length > 0 ? config.corsOrigins : false, exposedHeaders: ['x-request-id', 'idempotent-replayed', 'retry-after'] });

  const tokens = new Tokens(deps.jwtSecret, pool);
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
  app.get('/metrics', { config: { access: 'public', rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const coalescer = deps.write
    ? undefined
    : createCoalescingWriter({
        writeBatch: (requests) => postTransfers(pool, requests),
        inFlightMax: config.ledgerWritersMax,
        batchTransfersMax: ledgerBatchTransfersMax,
        queueMax: ledgerQueueMax,
      });
  // Clients that hang up do not cancel their writes: close waits until every queued batch is written.
  if (coalescer) app.addHook('onClose', () => coalescer.whenIdle());
  const ctx: RouteContext = {
    config,
    pool,
    currencies: await loadCurrencies(pool),
    tokens,
    write: deps.write ?? coalescer!,
    inFlight: new InFlightKeys(),
    metrics,
    sealKey: sealKey(deps.jwtSecret),
  };
  if (deps.sweepExpiredHolds) {
    const stop = startHoldExpiry(pool, ctx.write, (error) => app.log.error({ err: error }, 'expiring holds failed'));
    app.addHook('onClose', async () => stop());
  }
  if (deps.sealIntervalMs) {
    const stop = startSealer(pool, ctx.sealKey, deps.sealIntervalMs, (error) => app.log.error({ err: error }, 'sealing a checkpoint failed'));
    app.addHook('onClose', async () => stop());
  }
  await app.register(healthRoutes, { pool, redis: deps.redis });
  await app.register(userRoutes, ctx);
  await app.register(authRoutes, { ...ctx, loginLimit: { max: config.loginAttemptsPer15Minutes, timeWindow: '15 minutes' } });
  await app.register(currencyRoutes, ctx);
  await app.register(walletRoutes, ctx);
  await app.register(transferRoutes, ctx);
  await app.register(fundsRoutes, ctx);
  await app.register(ledgerRoutes, ctx);
  return app;
}
