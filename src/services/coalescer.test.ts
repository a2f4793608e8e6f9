import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PostOutcome, PostRequest } from '../ledger/transfer.ts';
import { createCoalescingWriter } from './coalescer.ts';

function request(id: string, transfers = 1): PostRequest {
  return { requestId: id, transfers: Array.from({ length: transfers }, () => ({ kind: 'transfer' as const, amount: 1n, currency: 'USD' })) };
}

function outcomeFor(request: PostRequest): PostOutcome {
  return { outcome: 'applied', requestId: request.requestId ?? null, results: [] };
}

/** A fake ledger that records its batches and answers when told to. */
function fakeLedger() {
  const batches: string[][] = [];
  const release: (() => void)[] = [];
  const writeBatch = (requests: PostRequest[]) => {
    batches.push(requests.map((r) => r.requestId!));
    return new Promise<PostOutcome[]>((resolve) => release.push(() => resolve(requests.map(outcomeFor))));
  };
  return { batches, release, writeBatch };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('whenIdle waits for queued and in-flight batches (shutdown drains before closing the pool)', async () => {
  const ledger = fakeLedger();
  const write = createCoalescingWriter({ writeBatch: ledger.writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  await write.whenIdle();
  const requests = [write(request('a')), write(request('b'))];
  let idle = false;
  const waiting = write.whenIdle().then(() => (idle = true));
  ledger.release.shift()!();
  await tick();
  assert.equal(idle, false, 'b is still to be written');
  ledger.release.shift()!();
  await Promise.all([...requests, waiting]);
  assert.equal(idle, true);
});

test('a lone request is written at once, without waiting for company', async () => {
  const ledger = fakeLedger();
  const write = createCoalescingWriter({ writeBatch: ledger.writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  const done = write(request('a'));
  assert.deepEqual(ledger.batches, [['a']], 'sent synchronously');
  ledger.release.shift()!();
  assert.equal(((await done) as { requestId: string }).requestId, 'a');
});

test('requests arriving while the writer is busy leave together, each with its own outcome', async () => {
  const ledger = fakeLedger();
  const write = createCoalescingWriter({ writeBatch: ledger.writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  const first = write(request('a', 4));
  const rest = ['b', 'c', 'd'].map((id) => write(request(id)));
  assert.deepEqual(ledger.batches, [['a']]);
  ledger.release.shift()!();
  await first;
  await tick();
  assert.deepEqual(ledger.batches, [['a'], ['b', 'c', 'd']]);
  ledger.release.shift()!();
  const outcomes = await Promise.all(rest);
  assert.deepEqual(outcomes.map((o) => (o as { requestId: string }).requestId), ['b', 'c', 'd']);
});

test('a busy writer is sent its next batch once the queue holds as many transfers as the last, and only one', async () => {
  const ledger = fakeLedger();
  const write = createCoalescingWriter({ writeBatch: ledger.writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  const all = [write(request('a', 3)), write(request('b')), write(request('c'))];
  assert.deepEqual(ledger.batches, [['a']], 'two transfers queued, fewer than the three being written');
  all.push(write(request('d')));
  assert.deepEqual(ledger.batches, [['a'], ['b', 'c', 'd']], 'three queued: they go to wait behind a');
  all.push(...['e', 'f', 'g'].map((id) => write(request(id))));
  assert.equal(ledger.batches.length, 2, 'one batch waits behind the one being written, no more');
  ledger.release.shift()!();
  await tick();
  assert.deepEqual(ledger.batches[2], ['e', 'f', 'g'], 'a is done: the next may wait behind b, c and d');
  ledger.release.shift()!();
  ledger.release.shift()!();
  await Promise.all(all);
});

test('batches are bounded by transfer count, and the queue by length', async () => {
  const ledger = fakeLedger();
  const write = createCoalescingWriter({ writeBatch: ledger.writeBatch, inFlightMax: 1, batchTransfersMax: 5, queueMax: 3 });
  void write(request('first'));
  void write(request('second'));
  const queued = [write(request('big', 4)), write(request('small', 2)), write(request('tiny', 1))];
  await assert.rejects(write(request('overflow')), /at capacity/);
  ledger.release.shift()!();
  await tick();
  assert.deepEqual(ledger.batches[2], ['big'], '4 + 2 transfers would pass the bound of 5');
  ledger.release.shift()!();
  ledger.release.shift()!();
  await tick();
  assert.deepEqual(ledger.batches[3], ['small', 'tiny']);
  ledger.release.shift()!();
  await Promise.all(queued);
});

test('a batch that fails as a statement is retried one request at a time, isolating the poisoned one', async () => {
  const seen: string[][] = [];
  const writeBatch = async (requests: PostRequest[]) => {
    seen.push(requests.map((r) => r.requestId!));
    if (requests.some((r) => r.requestId === 'poison')) throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
    return requests.map(outcomeFor);
  };
  const write = createCoalescingWriter({ writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  const blocker = write(request('blocker', 3));
  const results = await Promise.allSettled([write(request('ok-1')), write(request('poison')), write(request('ok-2'))]);
  await blocker;
  assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
});

test('a lost connection is never retried: the batch may have committed', async () => {
  let calls = 0;
  const writeBatch = async () => {
    calls++;
    throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
  };
  const write = createCoalescingWriter({ writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  const blocker = write(request('x', 2));
  const all = Promise.allSettled([write(request('y')), write(request('z'))]);
  await assert.rejects(blocker);
  assert.ok((await all).every((result) => result.status === 'rejected'));
  assert.equal(calls, 2, 'one call for x, one for the batch of y and z; no retries');
});

test('the next batch leaves before the callers of the finished one are answered', async () => {
  const ledger = fakeLedger();
  const write = createCoalescingWriter({ writeBatch: ledger.writeBatch, inFlightMax: 1, batchTransfersMax: 100, queueMax: 100 });
  const first = write(request('a', 3)).then(() => ledger.batches.map((batch) => batch.join('')));
  void write(request('b'));
  void write(request('c'));
  ledger.release.shift()!();
  assert.deepEqual(await first, ['a', 'bc'], 'b and c were on their way when a was answered');
  ledger.release.shift()!();
  await write.whenIdle();
});
