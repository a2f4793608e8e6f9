import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool, PoolClient } from './pool.ts';

const dbDir = path.dirname(fileURLToPath(import.meta.url));
const migrationsDir = path.join(dbDir, 'migrations');
// Functions as they are now, one file each: re-applied (create or replace) whenever a file changes,
// so a function's history is its file's history rather than a copy per numbered migration.
const functionsDir = path.join(dbDir, 'functions');
const migrationLockId = 7_271_828; // any constant: serializes migrators across processes

interface Migration {
  version: number;
  name: string;
  sql: string;
}

function listSqlFiles(dir: string, pattern: RegExp): { name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((file) => pattern.test(file))
    .sort()
    .map((file) => ({ name: file, sql: readFileSync(path.join(dir, file), 'utf8') }));
}

export function listMigrations(): Migration[] {
  return listSqlFiles(migrationsDir, /^\d{3}_[a-z0-9_]+\.sql$/).map((file) => ({ version: Number(file.name.slice(0, 3)), ...file }));
}

async function inTransaction(client: PoolClient, what: string, work: () => Promise<unknown>): Promise<void> {
  await client.query('begin');
  try {
    await work();
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw new Error(`${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Applies pending migrations in order, each once and in its own transaction, then every function
 * file whose text changed since it was last applied; all under an advisory lock.
 */
export async function migrate(pool: Pool): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLockId]);
    await client.query(`create table if not exists schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`);
    const done = new Set((await client.query<{ version: number }>('select version from schema_migrations')).rows.map((row) => row.version));
    for (const migration of listMigrations()) {
      if (done.has(migration.version)) continue;
      await inTransaction(client, `migration ${migration.name}`, async () => {
        await client.query(migration.sql);
        await client.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
      });
      applied.push(migration.name);
    }
    await client.query(`create table if not exists schema_functions (
      name text primary key, checksum text not null, applied_at timestamptz not null default now())`);
    const current = new Map((await client.query<{ name: string; checksum: string }>('select name, checksum from schema_functions')).rows.map((row) => [row.name, row.checksum]));
    for (const file of listSqlFiles(functionsDir, /^[a-z0-9_]+\.sql$/)) {
      const checksum = createHash('sha256').update(file.sql).digest('hex');
      if (current.get(file.name) === checksum) continue;
      await inTransaction(client, `function file ${file.name}`, async () => {
        await client.query(file.sql);
        await client.query(
          `insert into schema_functions (name, checksum) values ($1, $2)
           on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
          [file.name, checksum],
        );
      });
      applied.push(`functions/${file.name}`);
    }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [migrationLockId]).catch(() => {});
    client.release();
  }
  return applied;
}
