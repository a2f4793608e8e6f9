import type { Pool, PoolClient } from '../db/pool.ts';

/** An event as the outbox holds it, once the sequencer has given it its public place. */
export interface EventRecord {
  sequence: bigint;
  id: string;
  type: string;
  walletIds: string[];
  data: Record<string, unknown>;
  createdAt: Date;
}

interface EventRow {
  sequence: bigint;
  id: string;
  type: string;
  wallet_ids: string[];
  data: Record<string, unknown>;
  created_at: Date;
}

const eventColumns = 'sequence, id, type, wallet_ids, data, created_at';

function eventFromRow(row: EventRow): EventRecord {
  return { sequence: row.sequence, id: row.id, type: row.type, walletIds: row.wallet_ids, data: row.data, createdAt: row.created_at };
}

/** Gives committed events their public sequence; 0 when there was nothing to do or another instance holds the sequencer. */
export async function sequenceEvents(pool: Pool, limit: number): Promise<number> {
  const { rows } = await pool.query<{ sequenced: number }>('select sequenced from kassa_sequence_events($1)', [limit]);
  return rows[0]?.sequenced ?? 0;
}

/** Events after a sequence, oldest first: all of them, or those touching any of `walletIds`. */
export async function listEvents(
  db: Pool | PoolClient,
  options: { after: bigint; limit: number; walletIds?: string[] | undefined },
): Promise<EventRecord[]> {
  const { after, limit, walletIds } = options;
  const { rows } = walletIds
    ? await db.query<EventRow>(
        `select ${eventColumns} from outbox
          where sequence in (select distinct sequence from event_wallets
                              where wallet_id = any($1::uuid[]) and sequence > $2 order by sequence limit $3)
          order by sequence`,
        [walletIds, after.toString(), limit],
      )
    : await db.query<EventRow>(`select ${eventColumns} from outbox where sequence > $1 order by sequence limit $2`, [after.toString(), limit]);
  return rows.map(eventFromRow);
}

/** The last sequence given out: where a live stream that asks for "from now on" starts. */
export async function lastSequence(pool: Pool): Promise<bigint> {
  const { rows } = await pool.query<{ last_sequence: bigint }>('select last_sequence from event_sequencer where id = 1');
  return rows[0]?.last_sequence ?? 0n;
}

/** Events not yet numbered: none lies below the sequencer's floor (src/db/functions/sequence_events.sql). */
const unsequenced = 'sequence is null and position >= (select floor_position from event_sequencer where id = 1)';

/** Seconds since the oldest event a consumer has not yet taken was written (0 when it is caught up). */
export async function consumerLagSeconds(pool: Pool, consumer: string): Promise<number> {
  const { rows } = await pool.query<{ lag: number | null }>(
    `select extract(epoch from now() - least(
              (select created_at from outbox where ${unsequenced} order by position limit 1),
              (select created_at from outbox
                where sequence > coalesce((select sequence from event_cursors where consumer = $1), 0)
                order by sequence limit 1)))::float8 as lag`,
    [consumer],
  );
  return Math.max(0, rows[0]?.lag ?? 0);
}

export interface EventStatus {
  lastSequence: bigint;
  unsequenced: number;
  consumers: { name: string; sequence: bigint; lagSeconds: number }[];
  webhooks: { enabled: number; disabled: number; pendingMessages: number; failedAttemptsLastHour: number };
}

/** Outbox and webhook health in one read, for the operator console. */
export async function eventStatus(pool: Pool, consumers: string[]): Promise<EventStatus> {
  const { rows } = await pool.query<{
    last_sequence: bigint; unsequenced: number; enabled: number; disabled: number; pending: number; failed: number;
    cursors: { consumer: string; sequence: string }[];
  }>(
    `select (select last_sequence from event_sequencer where id = 1) as last_sequence,
            (select count(*) from outbox where ${unsequenced})::int as unsequenced,
            (select count(*) filter (where enabled) from webhooks)::int as enabled,
            (select count(*) filter (where not enabled) from webhooks)::int as disabled,
            (select count(*) from webhook_messages where state = 'pending')::int as pending,
            (select count(*) from webhook_deliveries where not succeeded and created_at > now() - interval '1 hour')::int as failed,
            (select coalesce(jsonb_agg(jsonb_build_object('consumer', consumer, 'sequence', sequence::text)), '[]') from event_cursors
              where consumer = any($1)) as cursors`,
    [consumers],
  );
  const row = rows[0]!;
  return {
    lastSequence: row.last_sequence,
    unsequenced: row.unsequenced,
    consumers: await Promise.all(row.cursors.map(async (cursor) => ({
      name: cursor.consumer,
      sequence: BigInt(cursor.sequence),
      lagSeconds: await consumerLagSeconds(pool, cursor.consumer),
    }))),
    webhooks: { enabled: row.enabled, disabled: row.disabled, pendingMessages: row.pending, failedAttemptsLastHour: row.failed },
  };
}
