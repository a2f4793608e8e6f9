import type { Pool } from '../db/pool.ts';
import type { EventRecord } from './events.ts';

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  failingSince: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  failing_since: Date | null;
  disabled_at: Date | null;
  created_at: Date;
}

const webhookColumns = 'id, url, events, enabled, failing_since, disabled_at, created_at';

function webhookFromRow(row: WebhookRow): Webhook {
  return { id: row.id, url: row.url, events: row.events, enabled: row.enabled, failingSince: row.failing_since, disabledAt: row.disabled_at, createdAt: row.created_at };
}

export async function createWebhook(pool: Pool, webhook: { url: string; events: string[]; sealedSecret: string }): Promise<Webhook> {
  const { rows } = await pool.query<WebhookRow>(
    `insert into webhooks (url, events, secret) values ($1, $2, $3) returning ${webhookColumns}`,
    [webhook.url, webhook.events, webhook.sealedSecret],
  );
  return webhookFromRow(rows[0]!);
}

export async function getWebhook(pool: Pool, id: string): Promise<Webhook | undefined> {
  const { rows } = await pool.query<WebhookRow>(`select ${webhookColumns} from webhooks where id = $1`, [id]);
  return rows[0] && webhookFromRow(rows[0]);
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listWebhooks(pool: Pool, options: { limit: number; before?: { createdAt: Date; id: string } | undefined }): Promise<Webhook[]> {
  const { rows } = await pool.query<WebhookRow>(
    `select ${webhookColumns} from webhooks
      where $1::timestamptz is null or (created_at, id) < ($1, $2::uuid)
      order by created_at desc, id desc limit $3`,
    [options.before?.createdAt ?? null, options.before?.id ?? null, options.limit],
  );
  return rows.map(webhookFromRow);
}

/** Turns an endpoint on or off; turning it on clears its failure streak, and its waiting messages go out again. */
export async function setWebhookEnabled(pool: Pool, id: string, enabled: boolean): Promise<Webhook | undefined> {
  const { rows } = await pool.query<WebhookRow>(
    `update webhooks
        set enabled = $2,
            failing_since = case when $2 then null else failing_since end,
            disabled_at = case when $2 then null when enabled then now() else disabled_at end
      where id = $1 returning ${webhookColumns}`,
    [id, enabled],
  );
  return rows[0] && webhookFromRow(rows[0]);
}

/** Deletes an endpoint with its queue and delivery history. */
export async function deleteWebhook(pool: Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('delete from webhooks where id = $1', [id]);
  return rowCount === 1;
}

export interface Delivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  succeeded: boolean;
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  succeeded: boolean;
  response_status: number | null;
  error: string | null;
  duration_ms: number;
  next_attempt_at: Date | null;
  created_at: Date;
}

/** Every attempt for an endpoint, newest first, keyset-paginated on (created_at, id). */
export async function listDeliveries(
  pool: Pool,
  webhookId: string,
  options: { limit: number; before?: { createdAt: Date; id: string } | undefined },
): Promise<Delivery[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `select id, webhook_id, event_id, event_type, attempt, succeeded, response_status, error, duration_ms, next_attempt_at, created_at
       from webhook_deliveries
      where webhook_id = $1 and ($2::timestamptz is null or (created_at, id) < ($2, $3::uuid))
      order by created_at desc, id desc limit $4`,
    [webhookId, options.before?.createdAt ?? null, options.before?.id ?? null, options.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    attempt: row.attempt,
    succeeded: row.succeeded,
    responseStatus: row.response_status,
    error: row.error,
    durationMs: row.duration_ms,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
  }));
}

export const webhookConsumer = 'webhooks';

/**
 * Moves the webhook cursor over up to `limit` sequenced events, queueing a message for every
 * enabled endpoint subscribed to each (and created before it). One statement; 0 when another
 * instance holds the cursor.
 */
export async function queueWebhookMessages(pool: Pool, limit: number): Promise<number> {
  const { rows } = await pool.query<{ events: number }>(
    `with cursor as (
       select sequence from event_cursors where consumer = $1 for update skip locked
     ), batch as (
       -- A scalar bound, so the index range starts at the cursor (a join with the cursor row
       -- would filter the index from its first entry: a scan that grows with the outbox).
       select o.sequence, o.type, o.created_at from outbox o
        where o.sequence > (select sequence from cursor) order by o.sequence limit $2
     ), queued as (
       insert into webhook_messages (webhook_id, event_sequence)
       select w.id, b.sequence from batch b
         join webhooks w on w.enabled and (b.type = any (w.events) or '*' = any (w.events)) and w.created_at <= b.created_at
       on conflict do nothing
     ), moved as (
       update event_cursors set sequence = (select max(sequence) from batch), updated_at = now()
        where consumer = $1 and exists (select 1 from batch)
     )
     select count(*)::int as events from batch`,
    [webhookConsumer, limit],
  );
  return rows[0]?.events ?? 0;
}

export interface DueMessage {
  webhookId: string;
  url: string;
  sealedSecret: string;
  attempt: number;
  event: EventRecord;
}

/**
 * Claims due messages of enabled endpoints (SKIP LOCKED, so instances share the work), except those
 * of endpoints this process is still delivering to, and leases them for `leaseSeconds`: a process
 * that dies mid-attempt leaves the message to be retried.
 */
export async function claimDueMessages(pool: Pool, limit: number, leaseSeconds: number, skipWebhookIds: string[] = []): Promise<DueMessage[]> {
  const { rows } = await pool.query<{
    webhook_id: string; url: string; secret: string; attempts: number;
    sequence: bigint; id: string; type: string; wallet_ids: string[]; data: Record<string, unknown>; created_at: Date;
  }>(
    `with due as (
       select m.webhook_id, m.event_sequence from webhook_messages m join webhooks w on w.id = m.webhook_id and w.enabled
        where m.state = 'pending' and m.next_attempt_at <= now() and m.webhook_id <> all ($3::uuid[])
        order by m.next_attempt_at, m.event_sequence limit $1
        for update of m skip locked
     ), claimed as (
       update webhook_messages m set attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         from due where m.webhook_id = due.webhook_id and m.event_sequence = due.event_sequence
       returning m.webhook_id, m.event_sequence, m.attempts
     )
     select c.webhook_id, w.url, w.secret, c.attempts, o.sequence, o.id, o.type, o.wallet_ids, o.data, o.created_at
       from claimed c join webhooks w on w.id = c.webhook_id join outbox o on o.sequence = c.event_sequence
      order by o.sequence`,
    [limit, leaseSeconds, skipWebhookIds],
  );
  return rows.map((row) => ({
    webhookId: row.webhook_id,
    url: row.url,
    sealedSecret: row.secret,
    attempt: row.attempts,
    event: { sequence: row.sequence, id: row.id, type: row.type, walletIds: row.wallet_ids, data: row.data, createdAt: row.created_at },
  }));
}

/** One attempt as the deliverer reports it; `nextAttemptAt` null when the message is done (delivered, or out of retries). */
export type AttemptResult = Omit<Delivery, 'id' | 'createdAt'> & { eventSequence: bigint };

/**
 * Records one attempt: the delivery row, the message's next state, and the endpoint's health —
 * a success clears its failure streak; failing for `disableAfterSeconds` without one disables it.
 */
export async function recordAttempt(pool: Pool, result: AttemptResult, disableAfterSeconds: number): Promise<void> {
  const state = result.succeeded ? 'delivered' : result.nextAttemptAt ? 'pending' : 'failed';
  await pool.query(
    `with attempt as (
       insert into webhook_deliveries (webhook_id, event_id, event_type, attempt, succeeded, response_status, error, duration_ms, next_attempt_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ), message as (
       update webhook_messages set state = $10, next_attempt_at = coalesce($9, next_attempt_at)
        where webhook_id = $1 and event_sequence = $11
     )
     update webhooks
        set failing_since = case when $5 then null else coalesce(failing_since, now()) end,
            enabled = enabled and ($5 or coalesce(failing_since, now()) > now() - make_interval(secs => $12)),
            disabled_at = case when enabled and not ($5 or coalesce(failing_since, now()) > now() - make_interval(secs => $12)) then now()
                               else disabled_at end
      where id = $1`,
    [
      result.webhookId, result.eventId, result.eventType, result.attempt, result.succeeded, result.responseStatus,
      result.error, result.durationMs, result.nextAttemptAt, state, result.eventSequence.toString(), disableAfterSeconds,
    ],
  );
}

/** Hands claimed messages back unattempted (at shutdown): due now, their claim not counted as an attempt. */
export async function releaseMessages(pool: Pool, webhookId: string, eventSequences: bigint[]): Promise<void> {
  await pool.query(
    `update webhook_messages set attempts = attempts - 1, next_attempt_at = now()
      where webhook_id = $1 and event_sequence = any ($2::bigint[]) and state = 'pending'`,
    [webhookId, eventSequences.map(String)],
  );
}
