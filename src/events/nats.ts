import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { EventWire } from '../http/schemas.ts';
import { eventBody, lazyConnection, type Publisher } from './publisher.ts';

/** JetStream stream names allow no dots: `kassa.events` is kept in stream `KASSA_EVENTS`. */
export function streamName(topic: string): string {
  return topic.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase();
}

/**
 * NATS JetStream: subject `<topic>.<event type>` in a stream created if missing, message id =
 * event id, so a re-send after a crash is dropped by the server's duplicate window. publish()
 * resolves when the stream has acknowledged every message.
 */
export function natsPublisher(url: string, topic: string): Publisher {
  const broker = lazyConnection<{ connection: NatsConnection; js: JetStreamClient }>(async (forget) => {
    const { host, username, password } = new URL(url);
    const connection = await connect({ servers: host, user: username || undefined, pass: password || undefined, maxReconnectAttempts: -1 });
    void connection.closed().then(forget);
    const manager = await jetstreamManager(connection);
    await manager.streams.find(`${topic}.>`).catch(() => manager.streams.add({ name: streamName(topic), subjects: [`${topic}.>`] }));
    return { connection, js: jetstream(connection) };
  }, ({ connection }) => connection.close());

  return {
    name: 'nats',
    async publish(events: EventWire[]) {
      const { js } = await broker.open();
      // Sent in order on one connection; the acknowledgements are awaited together.
      await Promise.all(events.map((event) => js.publish(`${topic}.${event.type}`, eventBody(event), { msgID: event.id })));
    },
    async check() {
      const { connection } = await broker.open();
      await connection.flush();
    },
    close: () => broker.close(),
  };
}
