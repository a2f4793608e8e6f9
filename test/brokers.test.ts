// Real brokers on this machine: a consumer on RabbitMQ and one on NATS JetStream receive every
// event of a 1,000-transfer run, in order, with no gaps; NATS drops a re-sent event by its id.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { natsPublisher, streamName } from '../src/events/nats.ts';
import { listEvents } from '../src/store/events.ts';
import { renderEvent } from '../src/events/wire.ts';
import { auth, depositTo, key, signUp, startApi, type TestApi } from './helpers/api.ts';
import { requireService } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';

const amqpUrl = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const transfersTotal = 1_000;

interface Received {
  id: string;
  sequence: string;
  type: string;
}

/** 1,000 concurrent single transfers among 20 funded users; returns how many events the ledger wrote. */
async function run1000Transfers(api: TestApi): Promise<number> {
  const operator = await signUp(api, { role: 'operator' });
  const users = await Promise.all(Array.from({ length: 20 }, () => signUp(api)));
  for (const user of users) await depositTo(api, operator, user.walletId, '1000.00');
  for (let start = 0; start < transfersTotal; start += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, offset) => {
      const index = start + offset;
      const from = users[index % 20]!;
      const to = users[(index + 1 + (index % 19)) % 20]!;
      const response = await api.app.inject({
        method: 'POST', url: '/v1/transfers', headers: auth(from, key()),
        payload: { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: '0.01', currency: 'USD' },
      });
      assert.equal(response.statusCode, 201, response.body);
    }));
  }
  const { rows } = await api.db.pool.query<{ count: number }>('select count(*)::int as count from outbox');
  return rows[0]!.count;
}

function assertComplete(received: Received[], total: number): void {
  assert.equal(received.length, total, 'every event arrived once');
  assert.deepEqual(received.map((event) => Number(event.sequence)), Array.from({ length: total }, (_, index) => index + 1), 'in order, no gaps');
  assert.equal(received.filter((event) => event.type === 'transfer.created').length, transfersTotal);
}

async function readiness(api: TestApi, broker: string): Promise<string> {
  const response = await api.app.inject({ method: 'GET', url: '/ready' });
  return response.json().checks[broker]?.status;
}

describe('brokers', () => {
  test('RabbitMQ: a consumer receives every event of 1,000 transfers, in order', async (t: TestContext) => {
    if (!(await requireService(t, 'RabbitMQ', amqpUrl))) return;
    const topic = `kassa.test.${process.pid}.${Date.now()}`;
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertExchange(topic, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, topic, '#');
    const received: Received[] = [];
    await channel.consume(queue, (message) => {
      if (!message) return;
      const event = JSON.parse(message.content.toString()) as Received;
      assert.equal(message.properties.messageId, event.id);
      assert.equal(message.fields.routingKey, event.type);
      received.push(event);
      channel.ack(message);
    });
    const api = await startApi({ EVENTS_URL: amqpUrl, EVENTS_TOPIC: topic }, { relayEvents: true });
    try {
      const total = await run1000Transfers(api);
      await waitFor('every event at the consumer', async () => (received.length >= total ? true : undefined), 60_000);
      await new Promise((resolve) => setTimeout(resolve, 200)); // room for a duplicate to show up
      assertComplete(received, total);
      assert.equal(await readiness(api, 'rabbitmq'), 'ok');
      const metrics = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /kassa_outbox_lag_seconds\{consumer="broker"\} 0\n/);
      assert.match(metrics, new RegExp(`kassa_events_delivered_total\\{sink="rabbitmq"\\} ${total}\\n`));
    } finally {
      await api.close();
      await channel.deleteExchange(topic);
      await connection.close();
    }
  });

  test('NATS JetStream: a consumer receives every event of 1,000 transfers; a re-send is deduplicated', async (t: TestContext) => {
    if (!(await requireService(t, 'NATS', natsUrl))) return;
    const topic = `kassa.test.${process.pid}.${Date.now()}`;
    const api = await startApi({ EVENTS_URL: natsUrl, EVENTS_TOPIC: topic }, { relayEvents: true });
    const nc = await connect({ servers: new URL(natsUrl).host });
    const manager = await jetstreamManager(nc);
    try {
      const total = await run1000Transfers(api);
      await waitFor('the relay to publish everything', async () => {
        const { rows } = await api.db.pool.query<{ sequence: string }>("select sequence::text from event_cursors where consumer = 'broker'");
        return Number(rows[0]!.sequence) === total ? true : undefined;
      }, 60_000);
      assert.equal(await readiness(api, 'nats'), 'ok');

      // What a relay that crashed after publishing but before moving its cursor would send again.
      const publisher = natsPublisher(natsUrl, topic);
      const resent = await listEvents(api.db.pool, { after: 0n, limit: 100 });
      await publisher.publish(resent.map((event) => renderEvent(event, new Map([['USD', { code: 'USD', name: 'US Dollar', scale: 2, kind: 'fiat' }]]))));
      await publisher.close();

      const info = await manager.streams.info(streamName(topic));
      assert.equal(info.state.messages, total, 'the re-sent events were dropped as duplicates');
      const consumer = await jetstream(nc).consumers.get(streamName(topic));
      const received: Received[] = [];
      const messages = await consumer.consume();
      for await (const message of messages) {
        received.push(message.json<Received>());
        if (received.length === total) break;
      }
      assertComplete(received, total);
    } finally {
      await api.close();
      await manager.streams.delete(streamName(topic)).catch(() => {});
      await nc.close();
    }
  });
});
