import type { EventWire } from '../http/schemas.ts';

/** A message broker the relay hands events to, in order. */
export interface Publisher {
  /** 'rabbitmq', 'nats' or 'kafka': the label of metrics and the /ready check. */
  readonly name: string;
  /** Resolves once the broker has durably accepted every event; rejects if it took any fewer. */
  publish(events: EventWire[]): Promise<void>;
  /** Resolves when the broker is reachable (for /ready). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** The publisher `EVENTS_URL` names; each adapter is loaded only when chosen. */
export async function createPublisher(eventsUrl: string, topic: string): Promise<Publisher> {
  const protocol = new URL(eventsUrl).protocol;
  if (protocol === 'amqp:' || protocol === 'amqps:') return (await import('./amqp.ts')).amqpPublisher(eventsUrl, topic);
  if (protocol === 'nats:') return (await import('./nats.ts')).natsPublisher(eventsUrl, topic);
  if (protocol === 'kafka:') return (await import('./kafka.ts')).kafkaPublisher(eventsUrl, topic);
  throw new Error(`EVENTS_URL: no publisher for ${protocol}`);
}

export function eventBody(event: EventWire): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/**
 * A broker connection opened on first use and reopened after it is lost: `open()` shares one
 * attempt among concurrent callers, a failed attempt is forgotten (the next call retries), and
 * `forget()` drops a connection that closed. `close()` ends the current one, if any.
 */
export function lazyConnection<T>(connect: (forget: () => void) => Promise<T>, end: (connection: T) => Promise<void>) {
  let opening: Promise<T> | undefined;
  const forget = () => {
    opening = undefined;
  };
  return {
    open(): Promise<T> {
      opening ??= connect(forget).catch((error: unknown) => {
        opening = undefined;
        throw error;
      });
      return opening;
    },
    async close(): Promise<void> {
      const current = opening;
      opening = undefined;
      const connection = await current?.catch(() => undefined);
      if (connection !== undefined) await end(connection).catch(() => {});
    },
  };
}
