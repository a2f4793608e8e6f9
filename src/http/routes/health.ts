import type { FastifyPluginAsync } from 'fastify';
import type { Pool } from '../../db/pool.ts';

const readyTimeoutMs = 2_000;

export const healthRoutes: FastifyPluginAsync<{ pool: Pool }> = async (app, { pool }) => {
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const started = performance.now();
    const database = await Promise.race([
      pool.query('select 1').then(() => 'ok' as const),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), readyTimeoutMs).unref()),
    ]).catch(() => 'down' as const);
    const ok = database === 'ok';
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'unavailable', checks: { database: { status: database, latency_ms: Math.round(performance.now() - started) } } };
  });
};
