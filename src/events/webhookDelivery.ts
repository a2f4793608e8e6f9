import type { Currencies } from '../http/render.ts';
import type { Pool } from '../db/pool.ts';
import { claimDueMessages, recordAttempt, releaseMessages, type DueMessage } from '../store/webhooks.ts';
import { runLoop } from './loop.ts';
import { openSecret, signedHeaders } from './webhookSigning.ts';
import { renderEvent } from './wire.ts';

const claimMax = 32;
const endpointsInFlightMax = 16; // endpoints delivered to at once by one process
const idleIntervalMs = 250;
const attemptTimeoutMs = 10_000;
const leaseSeconds = (claimMax * attemptTimeoutMs) / 1000 + 60; // longer than one endpoint's share of a claim can take
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

async function attempt(message: DueMessage, options: WebhookDeliveryOptions, shutdown: AbortSignal): Promise<void> {
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
      signal: AbortSignal.any([AbortSignal.timeout(attemptTimeoutMs), shutdown]),
    });
    responseStatus = response.status;
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299) error = `endpoint answered ${response.status}`;
  } catch (caught) {
    const cause = (caught as { cause?: { code?: string } }).cause;
    const name = (caught as Error).name;
    error = name === 'TimeoutError' ? `no answer within ${attemptTimeoutMs} ms`
      : shutdown.aborted ? 'interrupted: this instance shut down'
      : `${(caught as Error).message}${cause?.code ? ` (${cause.code})` : ''}`;
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

/**
 * Runs deliveries in the background until stopped; never on the money path. Each endpoint's
 * messages go one after another in event order, endpoints in parallel and independently: a slow
 * endpoint holds up only itself, because the next claims skip endpoints still being delivered to.
 */
export function startWebhookDelivery(options: WebhookDeliveryOptions): { stop(): Promise<void> } {
  const inFlight = new Map<string, Promise<void>>(); // endpoint id → its delivery run
  const shutdown = new AbortController();

  async function deliver(webhookId: string, messages: DueMessage[]): Promise<void> {
    for (const [index, message] of messages.entries()) {
      if (shutdown.signal.aborted) {
        await releaseMessages(options.pool, webhookId, messages.slice(index).map((left) => left.event.sequence));
        return;
      }
      await attempt(message, options, shutdown.signal);
    }
  }

  const loop = runLoop(async () => {
    if (inFlight.size >= endpointsInFlightMax) return false;
    try {
      const due = await claimDueMessages(options.pool, claimMax, leaseSeconds, [...inFlight.keys()]);
      const byEndpoint = new Map<string, DueMessage[]>();
      for (const message of due) byEndpoint.set(message.webhookId, [...(byEndpoint.get(message.webhookId) ?? []), message]);
      for (const [webhookId, messages] of byEndpoint) {
        const run = deliver(webhookId, messages).catch(options.onError).finally(() => inFlight.delete(webhookId));
        inFlight.set(webhookId, run);
      }
      return due.length === claimMax;
    } catch (error) {
      options.onError(error);
      return false;
    }
  }, idleIntervalMs);

  return {
    async stop() {
      await loop.stop();
      shutdown.abort();
      await Promise.all(inFlight.values());
    },
  };
}
