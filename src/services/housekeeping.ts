import type { Pool } from '../db/pool.ts';

/** Idempotency keys are promised for at least 24 hours; they are kept for 48. */
export const idempotencyKeyRetentionHours = 48;
const refreshTokenRetentionDays = 7;
/** Finished webhook messages and the record of delivery attempts are kept this long; events themselves stay (they are the feed). */
export const webhookHistoryRetentionDays = 30;
const deleteBatchSize = 5_000;
const housekeepingIntervalMs = 10 * 60 * 1000;

/** Deletes expired idempotency keys, long-dead refresh tokens and old webhook history, in bounded batches. */
export async function sweepExpired(pool: Pool): Promise<{ idempotencyKeys: number; refreshTokens: number; webhookHistory: number }> {
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
  const { rows } = await pool.query<{ deleted: number }>(
    `with messages as (
       delete from webhook_messages where state <> 'pending' and next_attempt_at < now() - make_interval(days => $1) returning 1
     ), attempts as (
       delete from webhook_deliveries where created_at < now() - make_interval(days => $1) returning 1
     )
     select (select count(*) from messages)::int + (select count(*) from attempts)::int as deleted`,
    [webhookHistoryRetentionDays],
  );
  return { idempotencyKeys, refreshTokens: rowCount ?? 0, webhookHistory: rows[0]?.deleted ?? 0 };
}

/** Runs the sweep every ten minutes; any instance may run it, the deletes are idempotent. */
export function startHousekeeping(pool: Pool, onError: (error: unknown) => void): () => void {
  const timer = setInterval(() => sweepExpired(pool).catch(onError), housekeepingIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
