import type { Currency } from '../ledger/currencies.ts';
import { KassaError } from '../ledger/errors.ts';
import { parsePositiveAmount } from '../ledger/money.ts';
import type { PostOutcome, PostRequest, TransferOrder, TransferResult } from '../ledger/transfer.ts';

/** Writes a request to the ledger: directly, or through a coalescer that batches concurrent calls. */
export type TransferWriter = (request: PostRequest) => Promise<PostOutcome>;

export interface MoneyInput {
  from_wallet_id?: string | undefined;
  to_wallet_id?: string | undefined;
  to_username?: string | undefined;
  wallet_id?: string | undefined;
  amount: string;
  currency: string;
  description?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  reference?: string | undefined;
  hold?: boolean | undefined;
  hold_expires_in?: number | undefined;
}

/** A hold voids itself after this long unless the request says otherwise (as card authorizations do). */
export const holdExpiresInDefaultSeconds = 7 * 24 * 60 * 60;
export const holdExpiresInMaxSeconds = 30 * 24 * 60 * 60;

/** A positive amount in `currency`, or the invalid_amount problem pointing at the field. */
export function parseMoney(text: string, currency: Currency): bigint {
  const amount = parsePositiveAmount(text, currency.scale);
  if (!amount.ok) {
    throw new KassaError('invalid_amount', `${amount.reason} (${currency.code} has ${currency.scale} decimal places)`, [
      { pointer: '/amount', detail: amount.reason },
    ]);
  }
  return amount.minor;
}

/** Checks what needs no database (currency known, amount valid at its scale) and builds the order. */
export function buildOrder(
  kind: TransferOrder['kind'],
  input: MoneyInput,
  currencies: ReadonlyMap<string, Currency>,
  ownerId: string | undefined,
): TransferOrder {
  const currency = currencies.get(input.currency);
  if (!currency) throw new KassaError('currency_not_found', `${input.currency} is not a currency this ledger holds`);
  const order: TransferOrder = { kind, amount: parseMoney(input.amount, currency), currency: currency.code, ownerId };
  if (kind === 'transfer') {
    if ((input.to_wallet_id === undefined) === (input.to_username === undefined)) {
      throw new KassaError('validation_failed', 'give exactly one of to_wallet_id and to_username', [
        { pointer: '/to_wallet_id', detail: 'exactly one of to_wallet_id and to_username is required' },
      ]);
    }
    order.fromWalletId = input.from_wallet_id;
    order.toWalletId = input.to_wallet_id;
    order.toUsername = input.to_username;
    if (input.hold_expires_in !== undefined && input.hold !== true) {
      throw new KassaError('validation_failed', 'hold_expires_in applies only with hold: true', [
        { pointer: '/hold_expires_in', detail: 'needs hold: true' },
      ]);
    }
    if (input.hold === true) order.hold = { expiresInSeconds: input.hold_expires_in ?? holdExpiresInDefaultSeconds };
  } else if (kind === 'deposit') {
    order.toWalletId = input.wallet_id;
  } else {
    order.fromWalletId = input.wallet_id;
  }
  if (input.description !== undefined) order.description = input.description;
  if (input.metadata !== undefined) order.metadata = input.metadata;
  if (input.reference !== undefined) order.reference = input.reference;
  return order;
}

export type BatchItem = { order: TransferOrder } | { error: KassaError };

/**
 * Runs a batch whose items may already have failed validation. An atomic batch with a failed item
 * never reaches the ledger; otherwise the valid items are written and the results merged in order.
 */
export async function runBatch(
  write: TransferWriter,
  items: BatchItem[],
  request: Omit<PostRequest, 'transfers'>,
): Promise<PostOutcome> {
  const orders = items.flatMap((item) => ('order' in item ? [item.order] : []));
  const rejected = (item: { error: KassaError }): TransferResult => ({ ok: false, code: item.error.code, detail: item.error.message });
  if (orders.length < items.length && (request.atomic || orders.length === 0)) {
    const aborted: TransferResult = { ok: false, code: 'batch_aborted', detail: 'another transfer of this atomic batch failed' };
    return { outcome: 'applied', requestId: request.requestId ?? null, results: items.map((item) => ('error' in item ? rejected(item) : aborted)) };
  }
  const outcome = await write({ ...request, transfers: orders });
  if (!('results' in outcome)) return outcome;
  const written = outcome.results[Symbol.iterator]();
  return { ...outcome, results: items.map((item) => ('error' in item ? rejected(item) : written.next().value!)) };
}
