import type { Config } from '../config.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';
import { createPool, type Pool } from './pool.ts';

export interface Database {
  pool: Pool;
  /** Where the data lives, for the start-up log line (no password). */
  description: string;
  close(): Promise<void>;
}

/** DATABASE_URL when set, else the embedded PostgreSQL under DATA_DIR; migrated either way. */
export async function openDatabase(config: Config, log: (line: string) => void): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPostgresPort,
        // The server's own log is for debugging the embedded server, not for everyday output.
        log: ['debug', 'trace'].includes(config.logLevel) ? (line) => log(`postgres: ${line}`) : undefined,
      });
  const url = config.databaseUrl ?? embedded!.url;
  const pool = createPool({ connectionString: url, max: 20 });
  try {
    const applied = await migrate(pool);
    if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`);
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  const safeUrl = new URL(url);
  safeUrl.password = '';
  return {
    pool,
    description: embedded ? `embedded PostgreSQL in ${config.dataDir} (${safeUrl.host})` : `${safeUrl.host}${safeUrl.pathname}`,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}
