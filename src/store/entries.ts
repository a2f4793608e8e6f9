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

/**
 * A wallet's balance history, newest first, keyset-paginated on the per-account version. A time
 * window becomes a version range first (kassa_entry_version_before: entry times grow with the
 * version), so the page is one range of the primary key whatever the window.
 */
export async function listEntries(
  pool: Pool,
  walletId: string,
  options: { limit: number; before?: bigint | undefined; from?: Date | undefined; to?: Date | undefined },
): Promise<Page<Entry>> {
  const { rows } = await pool.query<EntryRow>(
    `select id, account_id, transfer_id, amount, balance_after, version, created_at
       from entries
      where account_id = $1
        and version > coalesce((select kassa_entry_version_before($1, $3) where $3::timestamptz is not null), 0)
        and version <= coalesce(least($2::bigint - 1, (select kassa_entry_version_before($1, $4) where $4::timestamptz is not null)),
                                9223372036854775807)
      order by version desc limit $5`,
    [walletId, options.before?.toString() ?? null, options.from ?? null, options.to ?? null, options.limit + 1],
  );
  const items = rows.slice(0, options.limit);
  return { items: items.map(entryFromRow), next: rows.length > options.limit ? items[items.length - 1]!.version : null };
}

/**
 * Posted balance at an instant: the balance_after of the last entry at or before it (timestamps
 * are whole microseconds, so "at or before" is "before one microsecond later").
 */
export async function balanceAt(pool: Pool, walletId: string, at: Date): Promise<bigint> {
  const { rows } = await pool.query<{ balance_after: bigint }>(
    `select balance_after from entries
      where account_id = $1 and version = kassa_entry_version_before($1, $2::timestamptz + interval '1 microsecond')`,
    [walletId, at],
  );
  return rows[0]?.balance_after ?? 0n;
}
