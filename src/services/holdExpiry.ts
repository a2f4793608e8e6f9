import type { Pool } from '../db/pool.ts';
import type { TransferWriter } from './moveMoney.ts';

const expiryBatchMax = 500;
const sweepIntervalMs = 1_000;

/**
 * Voids holds whose deadline has passed. Deadlines live in rows, so expiry survives restarts;
 * the write function re-checks each hold under its accounts' locks, so several instances may
 * sweep at once and a hold captured meanwhile is left alone.
 */
export async function expireDueHolds(pool: Pool, write: TransferWriter): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `select id from transfers where status = 'pending' and expires_at <= now() order by expires_at limit $1`,
    [expiryBatchMax],
  );
  if (rows.length === 0) return 0;
  const outcome = await write({ transfers: rows.map((row) => ({ kind: 'expire' as const, transferId: row.id })) });
  return 'results' in outcome ? outcome.results.filter((result) => result.ok).length : 0;
}

export function startHoldExpiry(pool: Pool, write: TransferWriter, onError: (error: unknown) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    expireDueHolds(pool, write)
      .catch(onError)
      .finally(() => (running = false));
  }, sweepIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
