import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Pool } from '../db/pool.ts';
import type { Currencies } from '../http/render.ts';
import { listEvents } from '../store/events.ts';
import type { EventNotifier } from './notifier.ts';
import { renderEvent } from './wire.ts';

const pageSize = 100;
const pollIntervalMs = 2_000; // in case a notification is missed
const keepAliveIntervalMs = 15_000; // proxies close silent connections

export interface EventStreamOptions {
  pool: Pool;
  notifier: EventNotifier;
  currencies: Currencies;
  after: bigint;
  /** The caller's wallets, asked again on every read (a new wallet joins the stream); undefined: all events. */
  walletIds: () => Promise<string[] | undefined>;
  onError: (error: unknown) => void;
}

/**
 * A Server-Sent Events body: every event after `after`, then new ones as they are sequenced.
 * Each frame's `id` is the event's sequence, so a reconnecting EventSource resumes with
 * Last-Event-ID. A slow reader is waited for (backpressure), never buffered without bound.
 */
export function openEventStream(options: EventStreamOptions): PassThrough {
  const stream = new PassThrough();
  let cursor = options.after;
  let pumping = false;
  let again = false;

  async function write(text: string): Promise<void> {
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
  }

  async function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const events = await listEvents(options.pool, { after: cursor, limit: pageSize, walletIds: await options.walletIds() });
          for (const event of events) {
            if (stream.destroyed) return;
            await write(`id: ${event.sequence}\ndata: ${JSON.stringify(renderEvent(event, options.currencies))}\n\n`);
            cursor = event.sequence;
          }
          if (events.length < pageSize) break;
        }
      } while (again && !stream.destroyed);
    } catch (error) {
      options.onError(error);
      stream.end(); // the client reconnects with Last-Event-ID
    } finally {
      pumping = false;
    }
  }

  const unsubscribe = options.notifier.subscribe(() => void pump());
  const poll = setInterval(() => void pump(), pollIntervalMs).unref();
  const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), keepAliveIntervalMs).unref();
  const stop = () => {
    unsubscribe();
    clearInterval(poll);
    clearInterval(keepAlive);
  };
  stream.once('finish', stop); // ended by shutdown
  stream.once('close', stop); // or the client hung up
  stream.write('retry: 2000\n\n');
  void pump();
  return stream;
}
