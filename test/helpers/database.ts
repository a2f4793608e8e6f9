import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { migrate } from '../../src/db/migrate.ts';

export interface TestDatabase {
  pool: Pool;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the test server (DATABASE_URL), dropped by `drop()`. */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set: run the tests with `npm test`');
  const name = `kassa_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ connectionString: url.toString(), max: options.poolSize ?? 10 });
  await migrate(pool);
  return {
    pool,
    url: url.toString(),
    async drop() {
      if (!pool.ended) await pool.end(); // a test may have ended it to play a lost database
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
