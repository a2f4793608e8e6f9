import type { Pool } from '../../src/db/pool.ts';
import { postTransfers } from '../../src/store/transfers.ts';
import type { TransferOrder } from '../../src/ledger/transfer.ts';

let userCounter = 0;

/** Creates `count` users, each with one wallet in `currency`, in one statement. Returns wallet ids. */
export async function createWallets(pool: Pool, count: number, currency = 'USD'): Promise<string[]> {
  const prefix = `user${process.pid}_${userCounter++}_`;
  const { rows } = await pool.query<{ id: string }>(
    `with new_users as (
       insert into users (username, password_hash, name)
       select $1 || n, 'not-a-hash', 'Test ' || n from generate_series(1, $2::int) n returning id)
     insert into accounts (kind, user_id, currency) select 'wallet', id, $3 from new_users returning id`,
    [prefix, count, currency],
  );
  return rows.map((row) => row.id).sort();
}

export async function deposit(pool: Pool, walletId: string, amount: bigint, currency = 'USD'): Promise<void> {
  const [outcome] = await postTransfers(pool, [{ transfers: [{ kind: 'deposit', toWalletId: walletId, amount, currency }] }]);
  if (outcome?.outcome !== 'applied' || !outcome.results[0]?.ok) throw new Error(`deposit failed: ${JSON.stringify(outcome)}`);
}

export function move(fromWalletId: string, toWalletId: string, amount: bigint, currency = 'USD'): TransferOrder {
  return { kind: 'transfer', fromWalletId, toWalletId, amount, currency };
}

export async function walletTotal(pool: Pool, currency = 'USD'): Promise<bigint> {
  const { rows } = await pool.query<{ total: bigint }>(
    `select coalesce(sum(balance), 0) as total from accounts where kind = 'wallet' and currency = $1`,
    [currency],
  );
  return rows[0]!.total;
}
