// npm run test:chaos — a worst day, bounded to a couple of minutes. Two API instances (the
// production build) share one PostgreSQL of the test's own; 16 clients move money between 20
// wallets, sending each request to either instance and retrying anything unacknowledged with the
// same Idempotency-Key. Meanwhile API instances are killed with SIGKILL and restarted, and
// PostgreSQL itself is crashed (SIGKILL to the postmaster: an immediate stop) and restarted.
// Afterwards every acknowledged transfer exists exactly once, no key was applied twice, money is
// conserved, no wallet is negative and the ledger verifies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findFreePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { signAccessToken } from '../../src/services/tokens.ts';
import { postTransfers } from '../../src/store/transfers.ts';
import { verifyLedger } from '../../src/store/verify.ts';

const jwtSecret = 'chaos-secret-chaos-secret-chaos-secret-chaos';
const walletCount = 20;
const clients = 16;
const loadSeconds = 60;
const fundingMinor = 100_000n;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dataDir: string;
let databasePort: number;
let database: EmbeddedDatabase;
let url: string;
let pool: Pool;
const instances: { port: number; process?: ChildProcess }[] = [];
let wallets: { walletId: string; token: string }[] = [];
const report = { retries: 0, instanceKills: 0, databaseCrashes: 0 };

async function startDatabase(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      database = await startEmbeddedPostgres({ dataDir, port: databasePort });
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(500); // the crashed server's backends may still be exiting
    }
  }
}

function crashDatabase(): void {
  report.databaseCrashes++;
  const postmasterPid = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(postmasterPid, 'SIGKILL');
}

async function startInstance(index: number): Promise<void> {
  const instance = instances[index]!;
  instance.process = spawn(process.execPath, ['dist/main.js'], {
    env: { ...process.env, DATABASE_URL: url, PORT: String(instance.port), HOST: '127.0.0.1', JWT_SECRET: jwtSecret, LOG_LEVEL: 'fatal', RATE_LIMIT_PER_MINUTE: '10000000', NODE_ENV: 'production' },
    stdio: 'ignore',
  });
  for (let attempt = 0; attempt < 150; attempt++) {
    if ((await fetch(`http://127.0.0.1:${instance.port}/health`).catch(() => undefined))?.ok) return;
    await sleep(100);
  }
  throw new Error(`instance ${index} did not start`);
}

function killInstance(index: number): void {
  if (instances[index]!.process?.kill('SIGKILL')) report.instanceKills++;
}

before(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'kassa-chaos-'));
  chmodSync(dataDir, 0o755); // as root, the embedded server runs as the postgres user and must reach it
  databasePort = await findFreePort();
  await startDatabase();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await admin.query('create database kassa_chaos');
  await admin.end();
  url = database.url.replace(/\/postgres$/, '/kassa_chaos');
  pool = createPool({ connectionString: url, max: 4 });
  await migrate(pool);
  const { rows } = await pool.query<{ user_id: string; wallet_id: string }>(
    `with u as (insert into users (username, password_hash, name) select 'chaos_' || n, 'x', 'C' from generate_series(1, $1::int) n returning id),
          w as (insert into accounts (kind, user_id, currency) select 'wallet', id, 'USD' from u returning id, user_id)
     select user_id, id as wallet_id from w`,
    [walletCount],
  );
  const key = new TextEncoder().encode(jwtSecret);
  wallets = await Promise.all(rows.map(async (row) => ({ walletId: row.wallet_id, token: await signAccessToken(key, { userId: row.user_id, role: 'customer' }) })));
  await postTransfers(pool, [{ transfers: wallets.map((wallet) => ({ kind: 'deposit' as const, toWalletId: wallet.walletId, amount: fundingMinor, currency: 'USD' })) }]);
  for (let index = 0; index < 2; index++) instances.push({ port: await findFreePort() });
  await Promise.all(instances.map((_, index) => startInstance(index)));
});

after(async () => {
  instances.forEach((_, index) => killInstance(index));
  await pool?.end().catch(() => {});
  await database?.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

interface Acknowledged {
  key: string;
  transferId: string;
}

/** Sends one transfer until it gets a definitive answer, retrying with the same key and body. */
async function sendUntilAnswered(body: string, token: string, deadline: number): Promise<{ status: number; transferId?: string; key: string }> {
  const idempotencyKey = randomUUID();
  while (Date.now() < deadline) {
    const instance = instances[Math.floor(Math.random() * instances.length)]!;
    const response = await fetch(`http://127.0.0.1:${instance.port}/v1/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': idempotencyKey },
      body,
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);
    if (response && (response.status === 201 || (response.status >= 400 && response.status < 500 && response.status !== 409 && response.status !== 429))) {
      const json = (await response.json()) as { id?: string };
      return { status: response.status, transferId: json.id, key: idempotencyKey };
    }
    await response?.body?.cancel();
    report.retries++;
    await sleep(50 + Math.random() * 150);
  }
  return { status: 0, key: idempotencyKey };
}

test('killed instances and a crashed database lose no acknowledged transfer and apply none twice', async () => {
  const acknowledged: Acknowledged[] = [];
  const refused: Record<number, number> = {};
  let unanswered = 0;
  const loadEnds = Date.now() + loadSeconds * 1_000;
  const answerDeadline = loadEnds + 60_000; // unanswered requests keep retrying after the load stops

  const load = Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < loadEnds) {
        const from = wallets[Math.floor(Math.random() * wallets.length)]!;
        let to = wallets[Math.floor(Math.random() * wallets.length)]!;
        while (to === from) to = wallets[Math.floor(Math.random() * wallets.length)]!;
        const amount = (1 + Math.floor(Math.random() * 500)).toString().padStart(3, '0');
        const body = JSON.stringify({ from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: `${amount.slice(0, -2)}.${amount.slice(-2)}`, currency: 'USD' });
        const answer = await sendUntilAnswered(body, from.token, answerDeadline);
        if (answer.status === 201) acknowledged.push({ key: answer.key, transferId: answer.transferId! });
        else if (answer.status === 0) unanswered++;
        else refused[answer.status] = (refused[answer.status] ?? 0) + 1;
      }
    }),
  );

  const chaos = (async () => {
    await sleep(8_000);
    killInstance(0); // SIGKILL mid-flight
    await sleep(1_000);
    await startInstance(0);
    await sleep(8_000);
    killInstance(1);
    await sleep(1_000);
    await startInstance(1);
    await sleep(8_000);
    crashDatabase(); // immediate stop: no checkpoint, crash recovery on the way back
    await sleep(2_000);
    await startDatabase();
    await sleep(10_000);
    killInstance(0);
    killInstance(1); // both at once
    await sleep(1_000);
    await Promise.all([startInstance(0), startInstance(1)]);
    await sleep(5_000);
    crashDatabase();
    await sleep(1_000);
    await startDatabase();
  })();

  await Promise.all([load, chaos]);
  console.log(`chaos: ${acknowledged.length} acknowledged, refused ${JSON.stringify(refused)}, ${report.retries} retries, ${report.instanceKills} instance kills, ${report.databaseCrashes} database crashes`);
  assert.equal(unanswered, 0, 'every request got a definitive answer once the service was back');
  assert.ok(acknowledged.length > 100, `enough traffic went through: ${acknowledged.length} acknowledged`);
  for (const status of Object.keys(refused)) assert.equal(status, '422', `only business refusals (insufficient funds): ${JSON.stringify(refused)}`);

  // Every acknowledged transfer exists exactly once, under the key that acknowledged it.
  const ids = acknowledged.map((ack) => ack.transferId);
  assert.equal(new Set(ids).size, ids.length, 'no two keys were answered with the same transfer');
  const { rows: stored } = await pool.query<{ id: string }>('select id from transfers where id = any($1::uuid[])', [ids]);
  assert.equal(stored.length, ids.length, 'every acknowledged transfer is in the ledger');
  // No key was applied twice: each applied key names exactly one transfer, and every transfer
  // (besides the funding deposits) belongs to exactly one key.
  const { rows: keyed } = await pool.query<{ transfers: bigint; keys: bigint }>(
    `select (select count(*) from transfers where kind = 'transfer') as transfers,
            (select count(*) from idempotency_keys where response->'results'->0->'transfer' is not null) as keys`,
  );
  assert.equal(keyed[0]!.transfers, keyed[0]!.keys, 'one transfer per applied key');

  const { rows: totals } = await pool.query<{ total: bigint; negative: bigint }>(
    `select coalesce(sum(balance), 0) as total, count(*) filter (where balance - pending_out < 0) as negative from accounts where kind = 'wallet'`,
  );
  assert.equal(totals[0]!.total, fundingMinor * BigInt(walletCount), 'money is conserved');
  assert.equal(totals[0]!.negative, 0n);
  assert.deepEqual((await verifyLedger(pool)).mismatches, []);
});
