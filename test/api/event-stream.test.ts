// Server-Sent Events over a real socket: live delivery, only your own wallets, resume with Last-Event-ID.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { waitFor } from '../helpers/wait.ts';
import { auth, depositTo, signUp, startApi, testJwtSecret, type Session, type TestApi } from '../helpers/api.ts';

let api: TestApi;
let operator: Session;
let baseUrl: string;

before(async () => {
  api = await startApi({}, { relayEvents: true });
  operator = await signUp(api, { role: 'operator' });
  baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => api.close());

interface Frame {
  id: string;
  event: { type: string; sequence: string; wallet_ids: string[]; data: Record<string, unknown> };
}

/** Opens a stream and collects its frames until `count` have arrived; then hangs up. */
async function readFrames(session: Session, count: number, headers: Record<string, string> = {}, started?: () => Promise<unknown>): Promise<Frame[]> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v1/events/stream`, { headers: { ...auth(session), ...headers }, signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const frames: Frame[] = [];
  let buffer = '';
  const action = started?.();
  const deadline = setTimeout(() => controller.abort(), 30_000); // a hang guard
  try {
    while (frames.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined) frames.push({ id, event: JSON.parse(data) });
      }
    }
  } finally {
    clearTimeout(deadline);
    controller.abort();
    await action;
  }
  return frames.slice(0, count);
}

test('a stream delivers new events live, only for your own wallets, and resumes after Last-Event-ID', async () => {
  const alice = await signUp(api);
  const bob = await signUp(api);
  await waitFor('alice\'s sign-up events to be sequenced', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/v1/events', headers: auth(alice) });
    return response.json().data.length === 2 ? true : undefined;
  });
  const live = await readFrames(alice, 1, {}, async () => {
    await new Promise((resolve) => setTimeout(resolve, 200)); // the stream starts "from now"
    await depositTo(api, operator, bob.walletId, '7.00');
    await depositTo(api, operator, alice.walletId, '3.00');
  });
  assert.equal(live[0]!.event.type, 'deposit.created');
  assert.equal(live[0]!.event.data.amount, '3.00', "bob's deposit is not in alice's stream");
  assert.equal(live[0]!.id, live[0]!.event.sequence);

  await depositTo(api, operator, alice.walletId, '1.00');
  await depositTo(api, operator, alice.walletId, '2.00');
  const resumed = await readFrames(alice, 2, { 'last-event-id': live[0]!.id });
  assert.deepEqual(resumed.map((frame) => frame.event.data.amount), ['1.00', '2.00'], 'exactly the events after the last one seen');
});

test('an operator stream from the start replays every event in order', async () => {
  const frames = await readFrames(operator, 6, { 'last-event-id': '0' });
  assert.deepEqual(frames.map((frame) => BigInt(frame.id)), [1n, 2n, 3n, 4n, 5n, 6n]);
});

test('a stream ends when the token that opened it expires, so the client must re-authenticate', async () => {
  const alice = await signUp(api);
  const shortLived = await new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(alice.userId)
    .setIssuer('kassa')
    .setAudience('kassa-api')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
    .sign(new TextEncoder().encode(testJwtSecret));
  const response = await fetch(`${baseUrl}/v1/events/stream`, { headers: { authorization: `Bearer ${shortLived}` }, signal: AbortSignal.timeout(30_000) });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  let ended = false;
  for (let reads = 0; reads < 1_000 && !ended; reads++) ended = (await reader.read()).done;
  assert.ok(ended, 'the server closed the stream');
  const again = await fetch(`${baseUrl}/v1/events/stream`, { headers: { authorization: `Bearer ${shortLived}` } });
  assert.equal(again.status, 401, 'and the expired token cannot reopen it');
});
