import type { Pool } from '../db/pool.ts';
import type { Wallet } from '../ledger/transfer.ts';

export interface WalletRow {
  id: string;
  user_id: string;
  currency: string;
  balance: bigint;
  pending_out: bigint;
  pending_in: bigint;
  created_at: Date;
  updated_at: Date;
}

const walletColumns = 'id, user_id, currency, balance, pending_out, pending_in, created_at, updated_at';

export function walletFromRow(row: WalletRow): Wallet {
  return {
    id: row.id,
    userId: row.user_id,
    currency: row.currency,
    balance: row.balance,
    available: row.balance - row.pending_out,
    pendingOut: row.pending_out,
    pendingIn: row.pending_in,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function getWallet(pool: Pool, id: string): Promise<Wallet | undefined> {
  const { rows } = await pool.query<WalletRow>(`select ${walletColumns} from accounts where id = $1 and kind = 'wallet'`, [id]);
  return rows[0] && walletFromRow(rows[0]);
}

/** A user's wallets, newest first, keyset-paginated on (created_at, id). */
export async function listUserWallets(
  pool: Pool,
  userId: string,
  options: { limit: number; before?: { createdAt: Date; id: string } | undefined },
): Promise<{ items: Wallet[]; next: { createdAt: Date; id: string } | null }> {
  const { rows } = await pool.query<WalletRow>(
    `select ${walletColumns} from accounts
      where kind = 'wallet' and user_id = $1 and ($2::timestamptz is null or (created_at, id) < ($2, $3::uuid))
      order by created_at desc, id desc limit $4`,
    [userId, options.before?.createdAt ?? null, options.before?.id ?? null, options.limit + 1],
  );
  const items = rows.slice(0, options.limit).map(walletFromRow);
  const last = items[items.length - 1];
  return { items, next: rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

/** Creates a wallet and its wallet.created event; undefined when the user already holds one in that currency. */
export async function createWallet(pool: Pool, userId: string, currency: string): Promise<Wallet | undefined> {
  const { rows } = await pool.query<WalletRow>(
    `with wallet as (
       insert into accounts (kind, user_id, currency) values ('wallet', $1, $2)
       on conflict (user_id, currency) where kind = 'wallet' do nothing
       returning ${walletColumns}
     ), event as (
       insert into outbox (type, wallet_ids, data)
       select 'wallet.created', array[id], jsonb_build_object('wallet_id', id, 'user_id', user_id, 'currency', currency) from wallet
     )
     select * from wallet`,
    [userId, currency],
  );
  return rows[0] && walletFromRow(rows[0]);
}

export async function listUserWalletIds(pool: Pool, userId: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(`select id from accounts where kind = 'wallet' and user_id = $1`, [userId]);
  return rows.map((row) => row.id);
}
