import type { Pool } from '../db/pool.ts';
import type { Currencies } from '../http/render.ts';
import { listEvents, sequenceEvents } from '../store/events.ts';
import { queueWebhookMessages } from '../store/webhooks.ts';
import { runLoop } from './loop.ts';
import type { Publisher } from './publisher.ts';
import { renderEvent } from './wire.ts';

export const relayBatchMax = 500;
const idleIntervalMs = 100;
const publishTimeoutMs = 30_000;
const brokerBackoffMaxMs = 30_000;
export const brokerConsumer = 'broker';

/**
 * Publishes the events after the broker cursor, then moves the cursor — in one transaction that
 * holds the cursor's row lock throughout, so one instance publishes at a time and a crash before
 * the commit re-sends (at least once) rather than loses. 0 when another instance holds the lease.
 */
export async function relayToBroker(pool: Pool, publisher: Publisher, currencies: Currencies, limit = relayBatchMax): Promise<number> {
  const client = await pool.connect();
  // The connection idles in its transaction while the broker confirms; if the database drops it
  // meanwhile, the error must fail this relay step (at the next query), not the process.
  const ignore = () => {};
  client.on('error', ignore);
  let failure: Error | undefined;
  try {
    await client.query('begin');
    const { rows } = await client.query<{ sequence: bigint }>('select sequence from event_cursors where consumer = $1 for update skip locked', [brokerConsumer]);
    const cursor = rows[0];
    if (!cursor) {
      await client.query('rollback');
      return 0;
    }
    const events = await listEvents(client, { after: cursor.sequence, limit });
    const last = events[events.length - 1];
    if (last) {
      await withTimeout(publisher.publish(events.map((event) => renderEvent(event, currencies))), publishTimeoutMs, `${publisher.name} did not confirm`);
      await client.query('update event_cursors set sequence = $2, updated_at = now() where consumer = $1', [brokerConsumer, last.sequence.toString()]);
    }
    await client.query('commit');
    return events.length;
  } catch (error) {
    failure = error as Error;
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(failure); // a connection that failed is discarded, not pooled
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} within ${timeoutMs} ms`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface EventRelayOptions {
  pool: Pool;
  currencies: Currencies;
  publisher?: Publisher | undefined;
  onPublished?: ((count: number) => void) | undefined;
  onBrokerFailure?: (() => void) | undefined;
  onError: (error: unknown) => void;
}

/**
 * The background relay every instance runs: sequence committed events and queue webhook messages;
 * publish to the broker (backing off while it is down). Leases in the database keep instances
 * from doing the same step twice.
 */
export function startEventRelay(options: EventRelayOptions): { stop(): Promise<void> } {
  const { pool, publisher, onError } = options;
  let brokerFailures = 0;
  let brokerPausedUntil = 0;

  async function step(run: () => Promise<number>): Promise<boolean> {
    try {
      return (await run()) === relayBatchMax;
    } catch (error) {
      onError(error);
      return false;
    }
  }

  async function publishStep(broker: Publisher): Promise<boolean> {
    if (Date.now() < brokerPausedUntil) return false;
    try {
      const published = await relayToBroker(pool, broker, options.currencies);
      brokerFailures = 0;
      if (published > 0) options.onPublished?.(published);
      return published === relayBatchMax;
    } catch (error) {
      brokerFailures++;
      brokerPausedUntil = Date.now() + Math.min(brokerBackoffMaxMs, 250 * 2 ** brokerFailures) * (0.5 + Math.random() / 2);
      options.onBrokerFailure?.();
      onError(error);
      return false;
    }
  }

  // Two loops, so a slow or absent broker never delays the feed, the streams or the webhooks.
  const loops = [
    runLoop(async () => {
      const busy = await step(() => sequenceEvents(pool, relayBatchMax));
      return (await step(() => queueWebhookMessages(pool, relayBatchMax))) || busy;
    }, idleIntervalMs),
  ];
  if (publisher) loops.push(runLoop(() => publishStep(publisher), idleIntervalMs));
  return {
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
    },
  };
}
