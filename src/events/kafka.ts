import type { Message, Producer, ProducerRecord } from 'kafkajs';
import type { EventWire } from '../http/schemas.ts';
import { eventBody, lazyConnection, type Publisher } from './publisher.ts';

/** The part of a kafkajs producer the adapter uses; a test hands in a recording one. */
export type KafkaProducer = Pick<Producer, 'connect' | 'disconnect' | 'send'>;

/**
 * Kafka records for a batch of events: one per wallet an event concerns, keyed by that wallet id,
 * so each wallet's events share a partition and keep their order; consumers dedupe on `event-id`.
 */
export function kafkaMessages(events: EventWire[]): Message[] {
  return events.flatMap((event) =>
    (event.wallet_ids.length > 0 ? event.wallet_ids : [null]).map((walletId) => ({
      key: walletId,
      value: eventBody(event),
      headers: { 'event-id': event.id, 'event-type': event.type, 'event-sequence': event.sequence },
    })),
  );
}

async function realProducer(url: string): Promise<KafkaProducer> {
  const { Kafka, logLevel } = await import('kafkajs');
  const { host } = new URL(url);
  const kafka = new Kafka({ clientId: 'kassa', brokers: [host], logLevel: logLevel.NOTHING });
  // Idempotent: the broker drops a retried duplicate, and one request in flight keeps the order.
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
}

/** Kafka (kafkajs): every record acknowledged by all in-sync replicas (acks -1) before publish() resolves. */
export function kafkaPublisher(url: string, topic: string, createProducer: (url: string) => Promise<KafkaProducer> = realProducer): Publisher {
  const broker = lazyConnection<KafkaProducer>(async () => {
    const producer = await createProducer(url);
    await producer.connect();
    return producer;
  }, (producer) => producer.disconnect());

  return {
    name: 'kafka',
    async publish(events: EventWire[]) {
      const producer = await broker.open();
      const record: ProducerRecord = { topic, acks: -1, messages: kafkaMessages(events) };
      await producer.send(record);
    },
    async check() {
      await broker.open();
    },
    close: () => broker.close(),
  };
}
