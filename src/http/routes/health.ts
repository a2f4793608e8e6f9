import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import type { Pool } from '../../db/pool.ts';
import type { Publisher } from '../../events/publisher.ts';

const readyTimeoutMs = 2_000;

type CheckStatus = 'ok' | 'down' | 'timeout';

async function check(probe: () => Promise<unknown>): Promise<{ status: CheckStatus; latency_ms: number }> {
  const started = performance.now();
  const status = await Promise.race([
    probe().then(() => 'ok' as const),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), readyTimeoutMs).unref()),
  ]).catch(() => 'down' as const);
  return { status, latency_ms: Math.round(performance.now() - started) };
}

/** Liveness, and readiness with a check per dependency: 503 when any is not ok. */
export const healthRoutes: FastifyPluginAsync<{ pool: Pool; redis?: Redis | undefined; publisher?: Publisher | undefined }> = async (app, { pool, redis, publisher }) => {
  app.get('/health', { config: { access: 'public', rateLimit: false }, schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/ready', { config: { access: 'public', rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, { status: CheckStatus; latency_ms: number }> = { database: await check(() => pool.query('select 1')) };
    if (redis) checks.redis = await check(() => redis.ping());
    if (publisher) checks[publisher.name] = await check(() => publisher.check());
    const ok = Object.values(checks).every((result) => result.status === 'ok');
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'unavailable', checks };
  });
};
