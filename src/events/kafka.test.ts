// Kafka cannot run on this machine, so the adapter is checked against a recording producer:
// what it connects with, what it sends, and that a failed send is a failed publish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProducerRecord } from 'kafkajs';
import type { EventWire } from '../http/schemas.ts';
import { kafkaPublisher, type KafkaProducer } from './kafka.ts';

const transfer: EventWire = {
  id: '8a0e7c7e-1a5b-4a0e-9a57-7b1f3c2d4e5f',
  sequence: '41',
  type: 'transfer.created',
  created_at: '2026-11-22T10:00:00.000Z',
  wallet_ids: ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'],
  data: { amount: '1.00' },
};
const signup: EventWire = { ...transfer, id: 'c0d1e2f3-0000-4000-8000-000000000000', sequence: '42', type: 'user.created', wallet_ids: [], data: {} };

function recordingProducer(options: { failSend?: boolean } = {}) {
  const sent: ProducerRecord[] = [];
  let connects = 0;
  const producer: KafkaProducer = {
    connect: async () => void connects++,
    disconnect: async () => {},
    send: async (record) => {
      if (options.failSend) throw new Error('NOT_ENOUGH_REPLICAS');
      sent.push(record);
      return [];
    },
  };
  return { producer, sent, connects: () => connects };
}

test('each event goes to the topic once per wallet it concerns, keyed by that wallet, with acks from all replicas', async () => {
  const recording = recordingProducer();
  let url = '';
  const publisher = kafkaPublisher('kafka://broker.internal:9092', 'kassa.events', async (given) => ((url = given), recording.producer));
  await publisher.publish([transfer, signup]);
  await publisher.publish([transfer]);
  assert.equal(url, 'kafka://broker.internal:9092');
  assert.equal(recording.connects(), 1, 'one connection, reused');
  const [record] = recording.sent;
  assert.equal(record!.topic, 'kassa.events');
  assert.equal(record!.acks, -1);
  assert.deepEqual(record!.messages.map((message) => message.key), [...transfer.wallet_ids, null]);
  assert.deepEqual(JSON.parse(String(record!.messages[0]!.value)), transfer);
  assert.deepEqual(record!.messages[0]!.headers, { 'event-id': transfer.id, 'event-type': 'transfer.created', 'event-sequence': '41' });
  assert.equal(publisher.name, 'kafka');
});

test('a send the cluster refuses rejects the publish, so the relay keeps its cursor and retries', async () => {
  const publisher = kafkaPublisher('kafka://broker.internal:9092', 'kassa.events', async () => recordingProducer({ failSend: true }).producer);
  await assert.rejects(publisher.publish([transfer]), /NOT_ENOUGH_REPLICAS/);
});

test('a producer that cannot connect is retried on the next publish', async () => {
  let attempts = 0;
  const recording = recordingProducer();
  const publisher = kafkaPublisher('kafka://broker.internal:9092', 'kassa.events', async () => {
    if (++attempts === 1) throw new Error('ECONNREFUSED');
    return recording.producer;
  });
  await assert.rejects(publisher.check(), /ECONNREFUSED/);
  await publisher.publish([transfer]);
  assert.equal(recording.sent.length, 1);
});
