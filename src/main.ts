// config → database → app → listen; graceful shutdown on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { buildApp } from './app.ts';

function fail(message: string): never {
  console.error(`kassa: ${message}`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}

const database = await openDatabase(config, (line) => console.log(line)).catch((error: Error) => fail(error.message));
const app = await buildApp({ config, pool: database.pool, logger: { level: config.logLevel } });

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal }, 'shutting down');
  await app.close(); // finishes in-flight requests first
  await database.close();
});

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`kassa ready; database: ${database.description}`);
} catch (error) {
  await database.close();
  fail((error as Error).message);
}
