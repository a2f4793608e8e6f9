// The yardstick: what a typical wallet service does — one database transaction per transfer
// (debit, credit, two entries, commit) — issued straight to PostgreSQL on the same machine.
// pgbench when it is installed (the leanest client there is); otherwise an equivalent Node client.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Pool } from '../src/db/pool.ts';

export interface YardstickResult {
  client: 'pgbench' | 'node-pg';
  transfersPerSecond: number;
  latencyAverageMs: number;
}

export async function prepareYardstick(pool: Pool, accounts: number): Promise<void> {
  await pool.query(`
    drop table if exists yardstick_entries, yardstick_accounts;
    create table yardstick_accounts (id int primary key, balance numeric(38,0) not null, version bigint not null default 0);
    create table yardstick_entries (id bigint generated always as identity primary key, account_id int not null references yardstick_accounts (id),
                                    amount numeric(38,0) not null, created_at timestamptz not null default now());
    insert into yardstick_accounts (id, balance) select n, 100000000 from generate_series(1, ${accounts}) n;`);
}

function script(hot: boolean, accounts: number): string {
  return `${hot ? '\\set a 1\n\\set b 2' : `\\set a random(1, ${accounts})\n\\set b random(1, ${accounts})`}
\\set lo least(:a, :b)
\\set hi greatest(:a, :b)
BEGIN;
UPDATE yardstick_accounts SET balance = balance - 1, version = version + 1 WHERE id = :lo;
UPDATE yardstick_accounts SET balance = balance + 1, version = version + 1 WHERE id = :hi;
INSERT INTO yardstick_entries (account_id, amount) VALUES (:lo, -1), (:hi, 1);
COMMIT;
`;
}

function hasPgbench(): boolean {
  return spawnSync('pgbench', ['--version']).status === 0;
}

export async function runYardstick(databaseUrl: string, options: { hot: boolean; accounts: number; connections: number; durationSeconds: number }): Promise<YardstickResult> {
  if (hasPgbench()) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kassa-yardstick-'));
    const file = path.join(dir, 'transfer.sql');
    writeFileSync(file, script(options.hot, options.accounts));
    const output = execFileSync('pgbench', ['-n', '-c', String(options.connections), '-j', '2', '-T', String(options.durationSeconds), '-f', file, databaseUrl], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tps = /tps = ([\d.]+)/.exec(output);
    const latency = /latency average = ([\d.]+) ms/.exec(output);
    return { client: 'pgbench', transfersPerSecond: Number(tps?.[1] ?? 0), latencyAverageMs: Number(latency?.[1] ?? 0) };
  }
  return runNodeYardstick(databaseUrl, options);
}

async function runNodeYardstick(databaseUrl: string, options: { hot: boolean; accounts: number; connections: number; durationSeconds: number }): Promise<YardstickResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.connections });
  const deadline = Date.now() + options.durationSeconds * 1_000;
  let transfers = 0;
  let latencyTotalMs = 0;
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const client = await pool.connect();
      try {
        while (Date.now() < deadline) {
          const a = options.hot ? 1 : 1 + Math.floor(Math.random() * options.accounts);
          const b = options.hot ? 2 : 1 + Math.floor(Math.random() * options.accounts);
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const started = performance.now();
          await client.query('BEGIN');
          await client.query('UPDATE yardstick_accounts SET balance = balance - 1, version = version + 1 WHERE id = $1', [lo]);
          await client.query('UPDATE yardstick_accounts SET balance = balance + 1, version = version + 1 WHERE id = $1', [hi]);
          await client.query('INSERT INTO yardstick_entries (account_id, amount) VALUES ($1, -1), ($2, 1)', [lo, hi]);
          await client.query('COMMIT');
          latencyTotalMs += performance.now() - started;
          transfers++;
        }
      } finally {
        client.release();
      }
    }),
  );
  await pool.end();
  return { client: 'node-pg', transfersPerSecond: transfers / options.durationSeconds, latencyAverageMs: latencyTotalMs / Math.max(transfers, 1) };
}
