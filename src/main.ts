// config → database → app → listen; graceful shutdown on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/database.ts';
import { buildApp } from './app.ts';
import { startHousekeeping } from './services/housekeeping.ts';
import { hashPassword } from './services/passwords.ts';
import { loadJwtSecret } from './services/secrets.ts';
import { upsertAdmin } from './store/users.ts';

function fail(message: string): never {
  console.error(`kassa: ${message}`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}

const database = await openDatabase(config, (line) => console.log(line)).catch((error: Error) => fail(error.message));
if (config.adminUsername && config.adminPassword) {
  await upsertAdmin(database.pool, config.adminUsername, await hashPassword(config.adminPassword), config.defaultCurrency);
}
const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false }) : undefined;
redis?.on('error', () => {}); // reported by /ready; the rate limiter serves on without it
// Opt-in observability: neither module is even loaded unless configured.
const tracing = config.otlpEndpoint
  ? await (await import('./observability/tracing.ts')).startTracing({ endpoint: config.otlpEndpoint, serviceName: config.otelServiceName })
  : undefined;
const errorReporter = config.sentryDsn ? await (await import('./observability/errorTracking.ts')).startErrorTracking(config.sentryDsn, config.nodeEnv) : undefined;
const app = await buildApp({ config, pool: database.pool, redis, jwtSecret: loadJwtSecret(config), logger: { level: config.logLevel }, sweepExpiredHolds: true,
  sealIntervalMs: config.sealIntervalSeconds * 1_000, relayEvents: true, tracer: tracing?.tracer, errorReporter });

const stopHousekeeping = startHousekeeping(database.pool, (error) => app.log.error({ err: error }, 'housekeeping failed'));

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal }, 'shutting down');
  // Stop accepting and let in-flight requests finish. A keep-alive socket whose last request ends
  // after close() began turns idle and would hold the server open for the keep-alive timeout,
  // so idle sockets are swept until the server is closed.
  stopHousekeeping();
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  await app.close();
  clearInterval(sweep);
  redis?.disconnect();
  await database.close();
  await tracing?.shutdown();
  await errorReporter?.flush();
  app.log.info('shut down cleanly');
});

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`kassa ready; database: ${database.description}`);
} catch (error) {
  await database.close();
  fail((error as Error).message);
}
