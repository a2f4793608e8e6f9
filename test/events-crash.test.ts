// The gap fire-and-forget publishing leaves open: the production process commits money movements
// while the broker is unreachable, is SIGKILLed, and is killed again mid-publish under load. After
// each restart the relay resumes from its cursor: every event reaches a RabbitMQ consumer, in order.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { findFreePort } from '../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { requireService } from './helpers/services.ts';
import { waitFor } from './helpers/wait.ts';

const amqpUrl = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const topic = `kassa.crash.${process.pid}.${Date.now()}`;
let db: TestDatabase;
let server: ChildProcess | undefined;
let baseUrl = '';

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  server?.kill('SIGKILL');
  await db.drop();
});

async function startServer(eventsUrl: string): Promise<void> {
  const port = await findFreePort();
  baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  server = spawn(process.execPath, ['dist/main.js'], {
    env: {
      ...process.env, DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', EVENTS_URL: eventsUrl, EVENTS_TOPIC: topic,
      JWT_SECRET: 'crash-secret-crash-secret-crash-secret-0123', ADMIN_USERNAME: 'crash_admin', ADMIN_PASSWORD: 'a long admin password', LOG_LEVEL: 'fatal',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  await waitFor(`the server to listen:\n${output}`, async () => ((await fetch(`${baseUrl}/health`).catch(() => undefined))?.ok ? true : undefined));
}

async function kill(): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  server!.kill('SIGKILL');
  await exited;
}

async function call(path: string, body: unknown, token?: string): Promise<{ status: number; body: { wallet?: { id: string } } }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': randomUUID() };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { wallet?: { id: string } } };
}

/** Sends `count` transfers, 16 at a time, among the wallets; stops early (without failing) when the server dies. */
async function transfers(token: string, wallets: string[], count: number): Promise<number> {
  let acknowledged = 0;
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < count) {
      const index = next++;
      const from = wallets[index % wallets.length]!;
      const to = wallets[(index + 1) % wallets.length]!;
      const result = await call('/v1/transfers/batch', { transfers: [{ from_wallet_id: from, to_wallet_id: to, amount: '0.01', currency: 'USD' }] }, token).catch(() => undefined);
      if (!result) return;
      assert.equal(result.status, 200);
      acknowledged++;
    }
  }));
  return acknowledged;
}

test('events committed while the broker was down, or while the relay was killed mid-publish, all arrive after restart', async (t: TestContext) => {
  if (!(await requireService(t, 'RabbitMQ', amqpUrl))) return;
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(topic, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, topic, '#');
  const received: { id: string; sequence: string }[] = [];
  await channel.consume(queue, (message) => {
    if (message) received.push(JSON.parse(message.content.toString()));
  }, { noAck: true });

  try {
    // 1. The broker is unreachable: money still moves (delivery never blocks it), nothing is published.
    await startServer('amqp://guest:guest@127.0.0.1:1');
    const admin = await fetch(`${baseUrl}/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'crash_admin', password: 'a long admin password' }),
    }).then((response) => response.json() as Promise<{ access_token: string }>);
    const wallets: string[] = [];
    for (let index = 0; index < 8; index++) {
      const user = await call('/v1/users', { username: `crash_${index}`, password: 'a crash password', name: 'Crash' });
      const walletId = user.body.wallet!.id;
      wallets.push(walletId);
      assert.equal((await call('/v1/deposits', { wallet_id: walletId, amount: '100.00', currency: 'USD' }, admin.access_token)).status, 201);
    }
    assert.equal(await transfers(admin.access_token, wallets, 200), 200);
    const ready = await fetch(`${baseUrl}/ready`);
    assert.equal(ready.status, 503, '/ready reports the broker down');
    assert.equal((await ready.json()).checks.rabbitmq.status, 'down');
    await kill(); // committed, never published
    assert.equal(received.length, 0);
    const backlog = (await db.pool.query<{ count: number }>('select count(*)::int as count from outbox')).rows[0]!.count;

    // 2. The broker is back; killed again while it publishes under load.
    await startServer(amqpUrl);
    const load = transfers(admin.access_token, wallets, 2_000);
    const distinct = () => new Set(received.map((event) => event.id)).size;
    await waitFor('the backlog and new events to be flowing', async () => (distinct() > backlog + 200 ? true : undefined), 60_000);
    await kill();
    await load;

    // 3. Restarted: everything committed arrives.
    await startServer(amqpUrl);
    const { rows } = await db.pool.query<{ count: number }>('select count(*)::int as count from outbox');
    const total = rows[0]!.count;
    await waitFor('every committed event at the consumer', async () => (distinct() >= total ? true : undefined), 60_000);
    const firstSeen: number[] = [];
    const seen = new Set<string>();
    for (const event of received) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      firstSeen.push(Number(event.sequence));
    }
    assert.deepEqual(firstSeen, Array.from({ length: total }, (_, index) => index + 1), 'every event, first seen in order; re-sends only repeat');
    t.diagnostic(`${backlog} events committed while the broker was down; ${total} in all; ${received.length - total} re-sent after the kill mid-publish`);
  } finally {
    await kill().catch(() => {});
    await channel.deleteExchange(topic).catch(() => {});
    await connection.close();
  }
});
