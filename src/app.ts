import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Pool } from './db/pool.ts';
import { healthRoutes } from './http/routes/health.ts';

export interface AppDependencies {
  config: Config;
  pool: Pool;
  logger?: boolean | Record<string, unknown>;
}

/** Builds the HTTP app with every plugin registered explicitly; listening is the caller's job. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false });
  await app.register(healthRoutes, { pool: deps.pool });
  return app;
}
