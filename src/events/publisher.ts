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
