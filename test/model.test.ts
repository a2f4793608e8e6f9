// Model-based property test: random sequences of money operations are applied to the ledger and to
// a tiny in-memory model of it. After every step both agree on each outcome and on every balance
// and pending amount, and the ledger's own verification passes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createWallets } from './helpers/ledger.ts';
import { postTransfers } from '../src/store/transfers.ts';
import { getWallet } from '../src/store/wallets.ts';
import { verifyLedger } from '../src/store/verify.ts';
import type { LedgerOrder } from '../src/ledger/transfer.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

type Operation =
  | { op: 'deposit'; to: number; amount: number }
  | { op: 'withdraw'; from: number; amount: number }
  | { op: 'transfer'; from: number; to: number; amount: number; hold: boolean }
  | { op: 'capture'; hold: number; amount: number | null }
  | { op: 'void' | 'expire'; hold: number }
  | { op: 'reverse'; transfer: number; amount: number | null };

const walletCount = 3;
const wallet = fc.nat({ max: walletCount - 1 });
const amount = fc.integer({ min: 1, max: 400 });
const pick = fc.nat({ max: 50 });
// Weighted so that sequences fund wallets, open holds and then resolve or reverse them often.
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('deposit' as const), to: wallet, amount: fc.integer({ min: 1, max: 1_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('withdraw' as const), from: wallet, amount }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ op: fc.constant('transfer' as const), from: wallet, to: wallet, amount, hold: fc.boolean() })
      .filter((operation) => operation.from !== operation.to),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('capture' as const), hold: pick, amount: fc.option(amount, { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('void' as const), hold: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), hold: pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reverse' as const), transfer: pick, amount: fc.option(amount, { nil: null }) }) },
);

/** The model: integers per wallet, holds and reversible postings; `null` stands for the world account. */
interface Model {
  balance: number[];
  pendingOut: number[];
  pendingIn: number[];
  holds: { id: string; from: number; to: number; amount: number; open: boolean }[];
  postings: { id: string; from: number | null; to: number | null; reversible: number }[];
}

function available(model: Model, index: number): number {
  return model.balance[index]! - model.pendingOut[index]!;
}

function move(model: Model, from: number | null, to: number | null, value: number): void {
  if (from !== null) model.balance[from]! -= value;
  if (to !== null) model.balance[to]! += value;
}

/** What the model says an operation does: the expected error code, or the change it makes. */
function predict(model: Model, operation: Operation): { code: string } | { apply: (id: string) => void } | 'skip' {
  switch (operation.op) {
    case 'deposit':
      return { apply: (id) => (move(model, null, operation.to, operation.amount), model.postings.push({ id, from: null, to: operation.to, reversible: operation.amount })) };
    case 'withdraw':
      if (available(model, operation.from) < operation.amount) return { code: 'insufficient_funds' };
      return { apply: (id) => (move(model, operation.from, null, operation.amount), model.postings.push({ id, from: operation.from, to: null, reversible: operation.amount })) };
    case 'transfer':
      if (available(model, operation.from) < operation.amount) return { code: 'insufficient_funds' };
      if (operation.hold) {
        return {
          apply: (id) => {
            model.pendingOut[operation.from]! += operation.amount;
            model.pendingIn[operation.to]! += operation.amount;
            model.holds.push({ id, from: operation.from, to: operation.to, amount: operation.amount, open: true });
          },
        };
      }
      return { apply: (id) => (move(model, operation.from, operation.to, operation.amount), model.postings.push({ id, from: operation.from, to: operation.to, reversible: operation.amount })) };
    case 'capture':
    case 'void':
    case 'expire': {
      if (model.holds.length === 0) return 'skip';
      const hold = model.holds[operation.hold % model.holds.length]!;
      if (!hold.open) return { code: 'transfer_not_pending' };
      const captured = operation.op === 'capture' ? (operation.amount ?? hold.amount) : 0;
      if (captured > hold.amount) return { code: 'amount_exceeds_hold' };
      return {
        apply: () => {
          hold.open = false;
          model.pendingOut[hold.from]! -= hold.amount;
          model.pendingIn[hold.to]! -= hold.amount;
          if (captured > 0) {
            move(model, hold.from, hold.to, captured);
            model.postings.push({ id: hold.id, from: hold.from, to: hold.to, reversible: captured });
          }
        },
      };
    }
    case 'reverse': {
      if (model.postings.length === 0) return 'skip';
      const posting = model.postings[operation.transfer % model.postings.length]!;
      const value = operation.amount ?? posting.reversible;
      if (posting.reversible === 0 || value > posting.reversible) return { code: 'limit_exceeded' };
      if (posting.to !== null && available(model, posting.to) < value) return { code: 'insufficient_funds' };
      return { apply: () => ((posting.reversible -= value), move(model, posting.to, posting.from, value)) };
    }
  }
}

function toOrder(model: Model, wallets: string[], operation: Operation): LedgerOrder {
  switch (operation.op) {
    case 'deposit':
      return { kind: 'deposit', toWalletId: wallets[operation.to], amount: BigInt(operation.amount), currency: 'USD' };
    case 'withdraw':
      return { kind: 'withdrawal', fromWalletId: wallets[operation.from], amount: BigInt(operation.amount), currency: 'USD' };
    case 'transfer':
      return {
        kind: 'transfer',
        fromWalletId: wallets[operation.from],
        toWalletId: wallets[operation.to],
        amount: BigInt(operation.amount),
        currency: 'USD',
        hold: operation.hold ? { expiresInSeconds: 3_600 } : undefined,
      };
    case 'capture':
      return { kind: 'capture', transferId: model.holds[operation.hold % model.holds.length]!.id, amount: operation.amount === null ? undefined : BigInt(operation.amount) };
    case 'void':
    case 'expire':
      return { kind: operation.op, transferId: model.holds[operation.hold % model.holds.length]!.id };
    case 'reverse':
      return {
        kind: 'reversal',
        transferId: model.postings[operation.transfer % model.postings.length]!.id,
        amount: operation.amount === null ? undefined : BigInt(operation.amount),
        reason: 'model',
      };
  }
}

test('any sequence of money operations keeps the ledger equal to its model and verifiable', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 30, size: 'large' }), async (operations) => {
      const wallets = await createWallets(db.pool, walletCount);
      const model: Model = {
        balance: Array(walletCount).fill(0),
        pendingOut: Array(walletCount).fill(0),
        pendingIn: Array(walletCount).fill(0),
        holds: [],
        postings: [],
      };
      // Every run starts from funded wallets, so holds open and get resolved often.
      const funding: Operation[] = wallets.map((_, index) => ({ op: 'deposit', to: index, amount: 500 }));
      for (const operation of [...funding, ...operations]) {
        const expected = predict(model, operation);
        if (expected === 'skip') continue;
        const order = toOrder(model, wallets, operation);
        if (operation.op === 'expire') {
          // Time passes for this hold: its deadline moves into the past, as a clock would move it.
          await db.pool.query(`update transfers set expires_at = now() - interval '1 second' where id = $1 and status = 'pending'`, [(order as { transferId: string }).transferId]);
        }
        const [outcome] = await postTransfers(db.pool, [{ transfers: [order] }]);
        assert.ok(outcome && 'results' in outcome);
        const result = outcome.results[0]!;
        if ('code' in expected) {
          assert.equal(result.ok ? 'posted' : result.code, expected.code, JSON.stringify(operation));
        } else {
          if (!result.ok) assert.fail(`${JSON.stringify(operation)} failed with ${result.code}: ${result.detail ?? ''}`);
          expected.apply(result.transfer.id);
        }
        for (let index = 0; index < walletCount; index++) {
          const actual = (await getWallet(db.pool, wallets[index]!))!;
          assert.deepEqual(
            [actual.balance, actual.pendingOut, actual.pendingIn],
            [BigInt(model.balance[index]!), BigInt(model.pendingOut[index]!), BigInt(model.pendingIn[index]!)],
            `wallet ${index} after ${JSON.stringify(operation)}`,
          );
        }
        assert.deepEqual((await verifyLedger(db.pool)).mismatches, []);
      }
    }),
    { numRuns: 40 },
  );
});
