// Webhooks to a receiver on loopback: Standard Webhooks signatures checked independently, retries
// after 500s with every attempt visible, an endpoint disabled after sustained failure and resumed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { auth, depositTo, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
import { waitFor } from '../helpers/wait.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A loopback endpoint that answers each request with `answer(request number)`. */
async function startReceiver(answer: (index: number) => number): Promise<{ url: string; received: Received[]; setAnswer(next: (index: number) => number): void; close(): Promise<void> }> {
  const received: Received[] = [];
  let current = answer;
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const status = current(received.length);
      received.push({ headers: request.headers, body, answered: status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    setAnswer: (next) => (current = next),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The Standard Webhooks check, written out: HMAC-SHA256 over "id.timestamp.body" with the base64 secret. */
function signatureValid(secret: string, received: Received): boolean {
  const id = received.headers['webhook-id'] as string;
  const timestamp = received.headers['webhook-timestamp'] as string;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${received.body}`).digest();
  return (received.headers['webhook-signature'] as string).split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

let api: TestApi;
let operator: Session;

before(async () => {
  api = await startApi({ WEBHOOK_RETRY_SCHEDULE: '0.05,0.1,0.2,0.4,0.8,1.6', WEBHOOK_DISABLE_AFTER_SECONDS: '1' }, { relayEvents: true });
  operator = await signUp(api, { role: 'operator' });
});
after(() => api.close());

async function register(url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const response = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth(operator), payload: { url, events } });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

async function deliveries(webhookId: string) {
  const response = await api.app.inject({ method: 'GET', url: `/v1/webhooks/${webhookId}/deliveries?limit=100`, headers: auth(operator) });
  assert.equal(response.statusCode, 200, response.body);
  return (response.json().data as { event_id: string; attempt: number; status: string; response_status: number | null; next_attempt_at: string | null }[]).reverse();
}

describe('webhooks', () => {
  test('deliveries are signed, retried after a 500, and every attempt is listed', async () => {
    const receiver = await startReceiver((index) => (index < 2 ? 500 : 200));
    try {
      const hook = await register(receiver.url, ['deposit.created']);
      assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      const alice = await signUp(api);
      const payer = await signUp(api);
      await depositTo(api, operator, payer.walletId, '9.00');
      await api.app.inject({ method: 'POST', url: '/v1/transfers', headers: auth(payer, 'k-webhook-1'), payload: { from_wallet_id: payer.walletId, to_wallet_id: alice.walletId, amount: '1.00', currency: 'USD' } });
      await waitFor('a delivery that succeeds', async () => (receiver.received.length >= 3 ? true : undefined));
      const [first, second, third] = receiver.received;
      assert.deepEqual([first!.answered, second!.answered, third!.answered], [500, 500, 200]);
      for (const attempt of receiver.received) {
        assert.ok(signatureValid(hook.secret, attempt), 'the signature verifies by the spec');
        assert.doesNotThrow(() => new Webhook(hook.secret).verify(attempt.body, attempt.headers as Record<string, string>));
        assert.equal(attempt.headers['content-type'], 'application/json');
      }
      const event = JSON.parse(third!.body) as { id: string; type: string; data: { amount: string } };
      assert.equal(event.type, 'deposit.created', 'only the subscribed type is sent');
      assert.equal(event.data.amount, '9.00');
      assert.ok(receiver.received.every((attempt) => attempt.headers['webhook-id'] === event.id), 'webhook-id is the event id on every retry');

      const tampered = { ...third!, body: third!.body.replace('9.00', '90.00') };
      assert.equal(signatureValid(hook.secret, tampered), false);

      const attempts = await waitFor('three recorded attempts', async () => {
        const list = await deliveries(hook.id);
        return list.length === 3 ? list : undefined;
      });
      assert.deepEqual(attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.response_status]), [[1, 'failed', 500], [2, 'failed', 500], [3, 'succeeded', 200]]);
      assert.ok(attempts[0]!.next_attempt_at && attempts[1]!.next_attempt_at && attempts[2]!.next_attempt_at === null);
      assert.ok(attempts.every((attempt) => attempt.event_id === event.id));
      const metrics = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /kassa_event_delivery_failures_total\{sink="webhook"\} [2-9]/, 'failed attempts are counted');
      assert.match(metrics, /kassa_events_delivered_total\{sink="webhook"\} [1-9]/);
      assert.match(metrics, /kassa_outbox_lag_seconds\{consumer="webhooks"\} /);
    } finally {
      await receiver.close();
    }
  });

  test('an endpoint failing without pause is disabled; enabled again, its waiting messages go out', async () => {
    const receiver = await startReceiver(() => 503);
    try {
      const hook = await register(receiver.url, ['*']);
      const alice = await signUp(api);
      await depositTo(api, operator, alice.walletId, '1.00');
      const disabled = await waitFor<{ enabled: boolean; disabled_at: string | null; failing_since: string | null }>('the endpoint to be disabled', async () => {
        const response = await api.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}`, headers: auth(operator) });
        return response.json().enabled === false ? response.json() : undefined;
      });
      assert.ok(disabled.disabled_at && disabled.failing_since);
      assert.equal('secret' in disabled, false, 'the secret is shown only at creation');
      const failedSoFar = receiver.received.length;
      assert.ok(failedSoFar >= 2);

      receiver.setAnswer(() => 204);
      const enabled = await api.app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: auth(operator), payload: { enabled: true } });
      assert.equal(enabled.json().enabled, true);
      await waitFor("alice's three events delivered", async () => {
        const types = receiver.received.filter((attempt) => attempt.answered === 204).map((attempt) => JSON.parse(attempt.body).type);
        return types.includes('user.created') && types.includes('wallet.created') && types.includes('deposit.created') ? true : undefined;
      });
    } finally {
      await receiver.close();
    }
  });

  test('a hanging endpoint holds up only itself', async () => {
    const held: http.ServerResponse[] = [];
    let heldOpen = 0;
    const hanging = http.createServer((request, response) => {
      held.push(response); // never answered
      heldOpen++;
      request.on('close', () => heldOpen--);
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const healthy = await startReceiver(() => 200);
    try {
      await register(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}/slow`, ['withdrawal.created']);
      await register(healthy.url, ['withdrawal.created']);
      const alice = await signUp(api);
      await depositTo(api, operator, alice.walletId, '5.00');
      const withdraw = (amount: string) => api.app.inject({
        method: 'POST', url: '/v1/withdrawals', headers: auth(alice, `w-${amount}-${alice.userId}`),
        payload: { wallet_id: alice.walletId, amount, currency: 'USD' },
      });
      await withdraw('1.00');
      await waitFor('both endpoints to get the first event', async () => (held.length === 1 && healthy.received.length === 1 ? true : undefined));
      await withdraw('2.00');
      await waitFor('the healthy endpoint to get the second event', async () => (healthy.received.length === 2 ? true : undefined));
      assert.equal(heldOpen, 1, 'it arrived while the hanging endpoint was still holding the first one');
      assert.equal(held.length, 1, 'the hanging endpoint gets nothing more until it answers');
    } finally {
      held.forEach((response) => response.socket?.destroy());
      hanging.close();
      await healthy.close();
    }
  });

  test('only operators manage webhooks, urls must be http(s), and a deleted one is gone', async () => {
    const customer = await signUp(api);
    const denied = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth(customer), payload: { url: 'https://example.com/x', events: ['*'] } });
    assert.equal(denied.statusCode, 403);
    for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pass@example.com/']) {
      const invalid = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth(operator), payload: { url, events: ['*'] } });
      assert.equal(invalid.statusCode, 400, url);
      assert.equal(invalid.json().code, 'validation_failed');
    }
    const unknownType = await api.app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth(operator), payload: { url: 'https://example.com/x', events: ['money.printed'] } });
    assert.equal(unknownType.statusCode, 400);
    const hook = await register('https://example.com/x', ['transfer.created']);
    const listed = await api.app.inject({ method: 'GET', url: '/v1/webhooks', headers: auth(operator) });
    assert.ok(listed.json().data.some((item: { id: string }) => item.id === hook.id));
    assert.equal((await api.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: auth(operator) })).statusCode, 204);
    assert.equal((await api.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}`, headers: auth(operator) })).statusCode, 404);
    assert.equal((await api.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries`, headers: auth(operator) })).statusCode, 404);
  });
});
