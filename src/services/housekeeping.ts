import type { Pool } from '../db/pool.ts';

/** Idempotency keys are promised for at least 24 hours; they are kept for 48. */
export const idempotencyKeyRetentionHours = 48;
const refreshTokenRetentionDays = 7;
const deleteBatchSize = 5_000;
const housekeepingIntervalMs = 10 * 60 * 1000;

/** Deletes expired idempotency keys and long-dead refresh tokens, in bounded batches. */
export async function sweepExpired(pool: Pool): Promise<{ idempotencyKeys: number; refreshTokens: number }> {
  let idempotencyKeys = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `delete from idempotency_keys where ctid = any(array(
         select ctid from idempotency_keys where created_at < now() - make_interval(hours => $1) limit $2))`,
      [idempotencyKeyRetentionHours, deleteBatchSize],
    );
    idempotencyKeys += rowCount ?? 0;
    if ((rowCount ?? 0) < deleteBatchSize) break;
  }
  const { rowCount } = await pool.query(
    `delete from refresh_tokens where expires_at < now() - make_interval(days => $1)`,
    [refreshTokenRetentionDays],
  );
  return { idempotencyKeys, refreshTokens: rowCount ?? 0 };
}

/** Runs the sweep every ten minutes; any instance may run it, the deletes are idempotent. */
export function startHousekeeping(pool: Pool, onError: (error: unknown) => void): () => void {
  const timer = setInterval(() => sweepExpired(pool).catch(onError), housekeepingIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
