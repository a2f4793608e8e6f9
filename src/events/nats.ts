import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { EventWire } from '../http/schemas.ts';
import { eventBody, type Publisher } from './publisher.ts';

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
  let opening: Promise<{ connection: NatsConnection; js: JetStreamClient }> | undefined;

  function open() {
    opening ??= (async () => {
      const { host, username, password } = new URL(url);
      const connection = await connect({ servers: host, user: username || undefined, pass: password || undefined, maxReconnectAttempts: -1 });
      void connection.closed().then(() => (opening = undefined));
      const manager = await jetstreamManager(connection);
      await manager.streams.find(`${topic}.>`).catch(() => manager.streams.add({ name: streamName(topic), subjects: [`${topic}.>`] }));
      return { connection, js: jetstream(connection) };
    })().catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  }

  return {
    name: 'nats',
    async publish(events: EventWire[]) {
      const { js } = await open();
      // Sent in order on one connection; the acknowledgements are awaited together.
      await Promise.all(events.map((event) => js.publish(`${topic}.${event.type}`, eventBody(event), { msgID: event.id })));
    },
    async check() {
      const { connection } = await open();
      await connection.flush();
    },
    async close() {
      const current = opening;
      opening = undefined;
      if (current) await (await current.catch(() => undefined))?.connection.close().catch(() => {});
    },
  };
}
