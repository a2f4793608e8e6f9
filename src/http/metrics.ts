import client from 'prom-client';
import type { Pool } from '../db/pool.ts';
import { consumerLagSeconds } from '../store/events.ts';

export interface Metrics {
  registry: client.Registry;
  requestDuration: client.Histogram<'method' | 'route' | 'status'>;
  transfers: client.Counter<'outcome'>;
  eventsDelivered: client.Counter<'sink'>;
  eventDeliveryFailures: client.Counter<'sink'>;
  ledgerBatchRequests: client.Histogram;
  ledgerWriteDuration: client.Histogram;
}

/** `eventConsumers`: the outbox consumers whose lag is reported (the broker relay, webhooks). */
export function createMetrics(pool: Pool, eventConsumers: string[] = []): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requestDuration = new client.Histogram({
    name: 'kassa_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const transfers = new client.Counter({
    name: 'kassa_transfers_total',
    help: 'Transfers asked of the ledger, by outcome (posted or the error code)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // How well concurrent money requests coalesce: each write carries a whole batch in one commit.
  const ledgerBatchRequests = new client.Histogram({
    name: 'kassa_ledger_batch_requests',
    help: 'Money requests written together in one call of the write function and one commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const ledgerWriteDuration = new client.Histogram({
    name: 'kassa_ledger_write_duration_seconds',
    help: 'Time of one coalesced write, from sending the batch to its commit being acknowledged',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const poolGauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  poolGauge('kassa_db_pool_connections', 'Database connections open in the pool', () => pool.totalCount);
  poolGauge('kassa_db_pool_idle', 'Idle database connections in the pool', () => pool.idleCount);
  poolGauge('kassa_db_pool_waiting', 'Queries waiting for a database connection', () => pool.waitingCount);
  const eventsDelivered = new client.Counter({
    name: 'kassa_events_delivered_total',
    help: 'Events handed over: to the broker (confirmed) or to webhook endpoints (2xx)',
    labelNames: ['sink'] as const,
    registers: [registry],
  });
  const eventDeliveryFailures = new client.Counter({
    name: 'kassa_event_delivery_failures_total',
    help: 'Failed publishes to the broker and failed webhook attempts',
    labelNames: ['sink'] as const,
    registers: [registry],
  });
  new client.Gauge({
    name: 'kassa_outbox_lag_seconds',
    help: 'Age of the oldest event a consumer has not yet taken (0 when caught up)',
    labelNames: ['consumer'] as const,
    registers: [registry],
    async collect() {
      for (const consumer of eventConsumers) this.set({ consumer }, await consumerLagSeconds(pool, consumer).catch(() => Number.NaN));
    },
  });
  return { registry, requestDuration, transfers, eventsDelivered, eventDeliveryFailures, ledgerBatchRequests, ledgerWriteDuration };
}
