// npm run bench:phases [-- --requests 64 --transfers 1 --rounds 30]
// Where the write function spends its time: a copy of kassa_post_transfers that reports its clock
// before every top-level statement is created as a temporary function (gone with the connection)
// and called with batches of requests as the coalescer sends them (--requests 2 --transfers 1000:
// the batch endpoint's shape). Prints µs per
// transfer for each statement. Writes real transfers of 0.01 between existing wallets, so point
// DATABASE_URL at a benchmark database (`npm run bench` leaves one: kassa_bench).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { PostRequest } from '../src/ledger/transfer.ts';
import { requestToWrite, writeQuery } from '../src/store/transfers.ts';

const { values: args } = parseArgs({
  options: { requests: { type: 'string', default: '64' }, transfers: { type: 'string', default: '1' }, rounds: { type: 'string', default: '30' } },
});
const requestsPerCall = Number(args.requests);
const transfersPerRequest = Number(args.transfers);
const rounds = Number(args.rounds);
const warmUpRounds = 3;

/** The function's text with a `raise notice` before each top-level statement, labelled by the statement it closes. */
export function timedCopy(sql: string, name: string): string {
  const start = sql.indexOf('create or replace function kassa_post_transfers(');
  const definition = sql.slice(start);
  const linesBefore = sql.slice(0, start).split('\n').length - 1; // labels give the file's line numbers
  const lines = definition.replace('create or replace function kassa_post_transfers(', `create or replace function ${name}(`).split('\n');
  const out: string[] = [];
  let inBody = false;
  let previousEnded = false;
  let label = '(entry)';
  const tick = (next: string) => {
    out.push(`  raise notice 'phase|%|%', ${pg.escapeLiteral(label)}, extract(epoch from clock_timestamp() - v_phase_at) * 1000000; v_phase_at := clock_timestamp();`);
    label = next;
  };
  for (const [index, line] of lines.entries()) {
    if (!inBody && line === 'begin') {
      out.push('  v_phase_at timestamptz := clock_timestamp();', line);
      inBody = true;
      previousEnded = true;
      continue;
    }
    const code = line.replace(/--.*$/, '').trimEnd();
    if (inBody && code.length > 0) {
      if (previousEnded && /^ {2}[a-z]/.test(code)) {
        if (code.startsWith('  return query')) tick('(return)');
        else if (!code.startsWith('  end')) tick(`line ${linesBefore + index + 1}: ${code.trim().slice(0, 56)}`);
      }
      previousEnded = code.endsWith(';') || code.endsWith(' loop') || code.endsWith(' then');
    }
    out.push(line);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL to a benchmark database (e.g. …/kassa_bench after `npm run bench`)');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const sql = readFileSync(new URL('../src/db/functions/post_transfers.sql', import.meta.url), 'utf8');
  await client.query(timedCopy(sql, 'pg_temp.kassa_post_transfers_phases'));
  const { rows: wallets } = await client.query<{ id: string; user_id: string }>(
    `select id, user_id from accounts where kind = 'wallet' and currency = 'USD' and balance >= 1000000 limit 10000`,
  );
  if (wallets.length < 2) throw new Error('the database needs funded USD wallets (run `npm run bench` first)');
  const pick = () => wallets[Math.floor(Math.random() * wallets.length)]!;

  const totals = new Map<string, number>();
  let measuring = false;
  client.on('notice', (notice) => {
    const [tag, label, micros] = String(notice.message).split('|');
    if (tag !== 'phase' || !measuring) return;
    totals.set(label!, (totals.get(label!) ?? 0) + Number(micros));
  });
  let wallMs = 0;
  for (let round = 0; round < warmUpRounds + rounds; round++) {
    // Shaped as the coalescer sends them (the same serializer as postTransfers).
    const requests = Array.from({ length: requestsPerCall }, (): PostRequest => {
      const from = pick();
      const transfers = Array.from({ length: transfersPerRequest }, () => {
        let to = pick();
        while (to.id === from.id) to = pick();
        return { kind: 'transfer' as const, fromWalletId: from.id, toWalletId: to.id, ownerId: from.user_id, amount: 1n, currency: 'USD' };
      });
      return {
        idempotency: { scope: from.user_id, key: randomUUID(), fingerprint: randomUUID() },
        actorId: from.user_id,
        requestId: randomUUID(),
        transfers,
      };
    });
    measuring = round >= warmUpRounds;
    const query = writeQuery(requests.map(requestToWrite), 'pg_temp.kassa_post_transfers_phases', '*');
    const startedAt = performance.now();
    await client.query(query.text, query.values);
    if (measuring) wallMs += performance.now() - startedAt;
  }
  await client.end();

  const transfers = rounds * requestsPerCall * transfersPerRequest;
  const inside = [...totals.values()].reduce((sum, micros) => sum + micros, 0);
  console.log(`${rounds} calls of ${requestsPerCall} requests of ${transfersPerRequest} transfer(s); µs per transfer:`);
  for (const [label, micros] of totals) console.log(`${(micros / transfers).toFixed(1).padStart(8)}  ${label}`);
  console.log(`${(inside / transfers).toFixed(1).padStart(8)}  in the function`);
  console.log(`${((wallMs * 1000) / transfers).toFixed(1).padStart(8)}  per call, as the client saw it (adds receiving the request, the commit and the round trip)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
