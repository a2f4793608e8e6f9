import type { Pool } from '../db/pool.ts';
import type { Entry } from '../ledger/transfer.ts';
import type { Page } from './transfers.ts';

interface EntryRow {
  id: string;
  account_id: string;
  transfer_id: string;
  amount: bigint;
  balance_after: bigint;
  version: bigint;
  created_at: Date;
}

function entryFromRow(row: EntryRow): Entry {
  return {
    id: row.id,
    walletId: row.account_id,
    transferId: row.transfer_id,
    amount: row.amount,
    balanceAfter: row.balance_after,
    version: row.version,
    createdAt: row.created_at,
  };
}

/** A wallet's balance history, newest first, keyset-paginated on the per-account version. */
export async function listEntries(
  pool: Pool,
  walletId: string,
  options: { limit: number; before?: bigint | undefined; from?: Date | undefined; to?: Date | undefined },
): Promise<Page<Entry>> {
  const { rows } = await pool.query<EntryRow>(
    `select id, account_id, transfer_id, amount, balance_after, version, created_at
       from entries
      where account_id = $1 and ($2::bigint is null or version < $2)
        and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4)
      order by version desc limit $5`,
    [walletId, options.before?.toString() ?? null, options.from ?? null, options.to ?? null, options.limit + 1],
  );
  const items = rows.slice(0, options.limit);
  return { items: items.map(entryFromRow), next: rows.length > options.limit ? items[items.length - 1]!.version : null };
}

/**
 * Posted balance at an instant: the balance_after of the last entry at or before it. Entry times
 * are taken after the account lock, so they grow with the version and this is exact.
 */
export async function balanceAt(pool: Pool, walletId: string, at: Date): Promise<bigint> {
  const { rows } = await pool.query<{ balance_after: bigint }>(
    `select balance_after from entries where account_id = $1 and created_at <= $2
      order by created_at desc, version desc limit 1`,
    [walletId, at],
  );
  return rows[0]?.balance_after ?? 0n;
}
