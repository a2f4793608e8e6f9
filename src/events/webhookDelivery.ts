import type { Currencies } from '../http/render.ts';
import type { Pool } from '../db/pool.ts';
import { claimDueMessages, recordAttempt, type DueMessage } from '../store/webhooks.ts';
import { runLoop } from './loop.ts';
import { openSecret, signedHeaders } from './webhookSigning.ts';
import { renderEvent } from './wire.ts';

const claimMax = 32;
const idleIntervalMs = 250;
const attemptTimeoutMs = 10_000;
const leaseSeconds = 60; // longer than an attempt can take
const errorLengthMax = 500;

export interface WebhookDeliveryOptions {
  pool: Pool;
  currencies: Currencies;
  secretKey: Buffer;
  retryScheduleSeconds: readonly number[];
  disableAfterSeconds: number;
  onAttempt?: ((succeeded: boolean) => void) | undefined;
  onError: (error: unknown) => void;
}

/** When attempt `attempt` (1-based) has failed: the next try, ±20% jitter so retries do not stampede; null when out of retries. */
export function nextAttemptAt(attempt: number, scheduleSeconds: readonly number[], now = Date.now()): Date | null {
  const delaySeconds = scheduleSeconds[attempt - 1];
  if (delaySeconds === undefined) return null;
  return new Date(now + delaySeconds * 1000 * (0.8 + Math.random() * 0.4));
}

async function attempt(message: DueMessage, options: WebhookDeliveryOptions): Promise<void> {
  const body = JSON.stringify(renderEvent(message.event, options.currencies));
  const headers = signedHeaders(openSecret(options.secretKey, message.sealedSecret), message.event.id, new Date(), body);
  const started = performance.now();
  let responseStatus: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(message.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Kassa-Webhooks/1', ...headers },
      body,
      redirect: 'manual', // a redirect is a failure: the signed payload is not re-sent elsewhere
      signal: AbortSignal.timeout(attemptTimeoutMs),
    });
    responseStatus = response.status;
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299) error = `endpoint answered ${response.status}`;
  } catch (caught) {
    const cause = (caught as { cause?: { code?: string } }).cause;
    error = (caught as Error).name === 'TimeoutError' ? `no answer within ${attemptTimeoutMs} ms` : `${(caught as Error).message}${cause?.code ? ` (${cause.code})` : ''}`;
  }
  const succeeded = error === null;
  options.onAttempt?.(succeeded);
  await recordAttempt(options.pool, {
    webhookId: message.webhookId,
    eventSequence: message.event.sequence,
    eventId: message.event.id,
    eventType: message.event.type,
    attempt: message.attempt,
    succeeded,
    responseStatus,
    error: error?.slice(0, errorLengthMax) ?? null,
    durationMs: Math.round(performance.now() - started),
    nextAttemptAt: succeeded ? null : nextAttemptAt(message.attempt, options.retryScheduleSeconds),
  }, options.disableAfterSeconds);
}

/** Delivers what is due: endpoints in parallel, each endpoint's messages one after another in event order. */
export async function deliverDueWebhooks(options: WebhookDeliveryOptions): Promise<number> {
  const due = await claimDueMessages(options.pool, claimMax, leaseSeconds);
  const byEndpoint = new Map<string, DueMessage[]>();
  for (const message of due) byEndpoint.set(message.webhookId, [...(byEndpoint.get(message.webhookId) ?? []), message]);
  await Promise.all([...byEndpoint.values()].map(async (messages) => {
    for (const message of messages) await attempt(message, options);
  }));
  return due.length;
}

/** Runs deliveries in the background until stopped; never on the money path. */
export function startWebhookDelivery(options: WebhookDeliveryOptions): { stop(): Promise<void> } {
  return runLoop(async () => {
    const delivered = await deliverDueWebhooks(options).catch((error: unknown) => {
      options.onError(error);
      return 0;
    });
    return delivered === claimMax;
  }, idleIntervalMs);
}
