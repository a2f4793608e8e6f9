// npm run bench:instructions [-- --requests 32 --transfers 1 --calls 30 --function FILE --whole]
// Instructions per transfer inside the write function, counted by valgrind's callgrind: the same
// figure for the same code and input whatever else the machine is doing, so a change to the write
// function can be measured on a noisy shared machine, where timings vary by ±30%.
//
// Seeds a throwaway PostgreSQL cluster (initdb from PG_BIN, default `pg_config --bindir`) with the
// benchmark's 10,000 funded wallets, writes --calls calls of --requests requests of --transfers
// transfers, then replays them in single-user mode under callgrind, counting only inside
// plpgsql_call_handler (the write function and its trigger). The count for the first sixth of the
// calls is subtracted from the count for all: the first call's compilation and planning drop out.
// --whole counts the whole statement instead: reading its arguments and the commit too. Single-user
// mode takes no parameters, so the arguments are array literals here, parsed as text, where the
// server receives them in binary and parses nothing: --whole overstates that part (compare builds
// with it only when they read the same arguments). A change that moves work into the arguments
// shows only there: drawing the ids in the API saved 1-3% inside the function and cost 0.2% over
// the whole.
// The batch endpoint's shape: --requests 2 --transfers 1000 --calls 6.
// --function FILE measures another version of the function file (`git show REV:src/db/functions/post_transfers.sql`)
// that takes the same parameters.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { PostRequest } from '../src/ledger/transfer.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';
import { findFreePort } from '../src/db/embedded.ts';
import { requestToWrite, writeCall, writeColumns, type WriteColumn } from '../src/store/transfers.ts';
import { seed } from './seed.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '32' },
    transfers: { type: 'string', default: '1' },
    calls: { type: 'string', default: '30' },
    function: { type: 'string' },
    whole: { type: 'boolean', default: false },
  },
});
const [requestsPerCall, transfersPerRequest, calls] = [Number(args.requests), Number(args.transfers), Number(args.calls)];
const warmUpCalls = Math.max(1, Math.floor(calls / 6));
const bin = process.env.PG_BIN ?? execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(path.join(os.tmpdir(), 'kassa-instructions-'));
chmodSync(dir, 0o777);
// PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
const asServer = (command: string, commandArgs: string[], input?: string) => {
  const [file, fileArgs] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...commandArgs]] : [command, commandArgs];
  const result = spawnSync(file, fileArgs, { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout;
};
const data = path.join(dir, 'data');
const port = await findFreePort();
const url = `postgres://postgres@127.0.0.1:${port}/kassa`;
const serve = (dataDir: string, work: () => Promise<void>) => async () => {
  asServer(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', path.join(dir, 'log'), '-w', 'start']);
  try {
    await work();
  } finally {
    asServer(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  }
};

/** One line per call of the write function, as single-user mode reads statements. */
async function callsFor(pool: pg.Pool): Promise<string[]> {
  const { rows: wallets } = await pool.query<{ id: string; user_id: string }>(`select id, user_id from accounts where kind = 'wallet' and currency = 'USD'`);
  const pick = () => wallets[Math.floor(Math.random() * wallets.length)]!;
  return Array.from({ length: calls }, () => {
    const requests = Array.from({ length: requestsPerCall }, (): PostRequest => {
      const owner = pick();
      return {
        idempotency: { scope: owner.user_id, key: randomUUID(), fingerprint: randomUUID() },
        actorId: owner.user_id,
        requestId: randomUUID(),
        transfers: Array.from({ length: transfersPerRequest }, () => {
          let to = pick();
          while (to.id === owner.id) to = pick();
          return { kind: 'transfer' as const, fromWalletId: owner.id, toWalletId: to.id, ownerId: owner.user_id, amount: 1n, currency: 'USD' };
        }),
      };
    });
    const columns = writeColumns(requests.map(requestToWrite));
    return writeCall(columns, 'kassa_post_transfers', 'count(*)').replace(/\$(\d+)/g, (_, index: string) => arrayLiteral(columns[Number(index) - 1]!));
  });
}

/** A column as a quoted array literal ('{"a",NULL}'), for single-user mode, which takes no parameters. */
function arrayLiteral(column: WriteColumn): string {
  const element = (value: unknown): string => {
    if (value === null || value === undefined) return 'NULL';
    const text = column.type === 'jsonb' ? JSON.stringify(value) : String(value);
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  };
  return `'${`{${column.values.map(element).join(',')}}`.replaceAll("'", "''")}'`;
}

try {
  asServer(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres']);
  let lines: string[] = [];
  await serve(data, async () => {
    const admin = new pg.Client({ connectionString: url.replace('/kassa', '/postgres') });
    await admin.connect();
    await admin.query('create database kassa');
    await admin.end();
    const pool = createPool({ connectionString: url, max: 2 });
    await migrate(pool);
    await seed(pool, 'instruction-count-secret-instruction-count', 10_000, 1_000_000_00n);
    if (args.function) await pool.query(readFileSync(args.function, 'utf8'));
    await pool.query('vacuum analyze');
    lines = await callsFor(pool);
    await pool.end();
  })();

  const count = (callCount: number): number => {
    const copy = path.join(dir, `copy${callCount}`);
    execFileSync('cp', ['-a', data, copy]);
    const out = path.join(dir, `callgrind.${callCount}`);
    const scope = args.whole ? [] : ['--toggle-collect=plpgsql_call_handler'];
    asServer('valgrind', ['--tool=callgrind', ...scope, `--callgrind-out-file=${out}`, path.join(bin, 'postgres'), '--single', '-D', copy, 'kassa'], `${lines.slice(0, callCount).join('\n')}\n`);
    const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
    if (!totals) throw new Error('callgrind wrote no totals');
    return Number(totals[1]);
  };
  const steady = (count(calls) - count(warmUpCalls)) / ((calls - warmUpCalls) * requestsPerCall * transfersPerRequest);
  const what = args.function ?? 'src/db/functions/post_transfers.sql';
  console.log(`${what}: ${Math.round(steady).toLocaleString('en')} instructions per transfer${args.whole ? ', whole statement' : ''} (calls of ${requestsPerCall} requests of ${transfersPerRequest} transfer${transfersPerRequest === 1 ? '' : 's'})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
