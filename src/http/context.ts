import type { Config } from '../config.ts';
import type { EventNotifier } from '../events/notifier.ts';
import type { Pool } from '../db/pool.ts';
import type { TransferWriter } from '../services/moveMoney.ts';
import type { Tokens } from '../services/tokens.ts';
import type { InFlightKeys } from './idempotency.ts';
import type { Currencies } from './render.ts';
import type { Metrics } from './metrics.ts';

/** What route plugins need, passed explicitly. */
export interface RouteContext {
  config: Config;
  pool: Pool;
  currencies: Currencies;
  tokens: Tokens;
  write: TransferWriter;
  inFlight: InFlightKeys;
  metrics: Metrics;
  /** Signs and verifies ledger checkpoints; derived from the server secret. */
  sealKey: Buffer;
  /** Encrypts webhook signing secrets at rest; derived from the server secret. */
  webhookSecretKey: Buffer;
  /** Wakes live event streams when new events are sequenced. */
  notifier: EventNotifier;
  /** The broker events are published to ('rabbitmq', 'nats', 'kafka'), if any. */
  broker?: string | undefined;
}
