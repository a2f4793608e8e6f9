import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { EventWire } from '../http/schemas.ts';
import { eventBody, lazyConnection, type Publisher } from './publisher.ts';

/**
 * RabbitMQ: a durable topic exchange named after the topic, routing key = event type, persistent
 * messages with the event id as message id, and publisher confirms — publish() resolves only when
 * the broker has taken every message. A lost connection is reopened on the next publish.
 */
export function amqpPublisher(url: string, exchange: string): Publisher {
  const broker = lazyConnection<{ connection: ChannelModel; channel: ConfirmChannel }>(async (forget) => {
    const connection = await amqp.connect(url);
    connection.on('error', () => {}); // followed by 'close'
    connection.on('close', forget);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => {});
    channel.on('close', forget);
    await channel.assertExchange(exchange, 'topic', { durable: true });
    return { connection, channel };
  }, ({ connection }) => connection.close());

  return {
    name: 'rabbitmq',
    async publish(events: EventWire[]) {
      const { channel } = await broker.open();
      for (const event of events) {
        channel.publish(exchange, event.type, eventBody(event), {
          persistent: true,
          messageId: event.id,
          type: event.type,
          contentType: 'application/json',
          timestamp: Math.floor(Date.parse(event.created_at) / 1000),
          headers: { sequence: event.sequence },
        });
      }
      await channel.waitForConfirms(); // rejects if the broker refused any of them
    },
    async check() {
      await broker.open();
    },
    close: () => broker.close(),
  };
}
