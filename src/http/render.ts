// Domain values → wire values. Amounts render with exactly the currency scale.
import type { Currency } from '../ledger/currencies.ts';
import { formatAmount } from '../ledger/money.ts';
import type { Entry, Transfer, Wallet } from '../ledger/transfer.ts';
import type { User } from '../store/users.ts';
import type { EntryWire, TransferWire, UserWire, WalletWire } from './schemas.ts';

export type Currencies = ReadonlyMap<string, Currency>;

export function scaleOf(currencies: Currencies, code: string): number {
  const currency = currencies.get(code);
  if (!currency) throw new Error(`currency ${code} is not loaded`); // the ledger only holds known currencies
  return currency.scale;
}

export function renderUser(user: User): UserWire {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    email: user.email,
    national_id: user.nationalId,
    role: user.role,
    created_at: user.createdAt.toISOString(),
  };
}

export function renderWallet(wallet: Wallet, currencies: Currencies): WalletWire {
  const scale = scaleOf(currencies, wallet.currency);
  return {
    id: wallet.id,
    user_id: wallet.userId,
    currency: wallet.currency,
    balance: formatAmount(wallet.balance, scale),
    available: formatAmount(wallet.available, scale),
    pending_out: formatAmount(wallet.pendingOut, scale),
    pending_in: formatAmount(wallet.pendingIn, scale),
    created_at: wallet.createdAt.toISOString(),
    updated_at: wallet.updatedAt.toISOString(),
  };
}

export function renderTransfer(transfer: Transfer, currencies: Currencies): TransferWire {
  const scale = scaleOf(currencies, transfer.currency);
  return {
    id: transfer.id,
    kind: transfer.kind,
    status: transfer.status,
    from_wallet_id: transfer.fromWalletId,
    to_wallet_id: transfer.toWalletId,
    amount: formatAmount(transfer.amount, scale),
    captured_amount: formatAmount(transfer.capturedAmount, scale),
    currency: transfer.currency,
    description: transfer.description,
    metadata: transfer.metadata,
    reference: transfer.reference,
    expires_at: transfer.expiresAt?.toISOString() ?? null,
    hash: transfer.hash,
    reverses_transfer_id: transfer.reversesTransferId,
    created_at: transfer.createdAt.toISOString(),
    updated_at: transfer.updatedAt.toISOString(),
  };
}

export function renderEntry(entry: Entry, scale: number): EntryWire {
  return {
    id: entry.id,
    wallet_id: entry.walletId,
    transfer_id: entry.transferId,
    amount: formatAmount(entry.amount, scale),
    balance_after: formatAmount(entry.balanceAfter, scale),
    created_at: entry.createdAt.toISOString(),
  };
}
