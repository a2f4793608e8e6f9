// The shapes the ledger speaks in TypeScript. Amounts are bigint minor units throughout.

export type TransferKind = 'transfer' | 'deposit' | 'withdrawal' | 'reversal';
export type TransferStatus = 'posted' | 'pending' | 'voided';

export interface Transfer {
  id: string;
  kind: TransferKind;
  status: TransferStatus;
  fromWalletId: string | null;
  toWalletId: string | null;
  amount: bigint;
  capturedAmount: bigint;
  currency: string;
  description: string | null;
  metadata: Record<string, unknown> | null;
  reference: string | null;
  expiresAt: Date | null;
  hash: string | null;
  /** For a reversal: the transfer it reverses. */
  reversesTransferId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Wallet {
  id: string;
  userId: string;
  currency: string;
  balance: bigint;
  available: bigint;
  pendingOut: bigint;
  pendingIn: bigint;
  createdAt: Date;
  updatedAt: Date;
}

export interface Entry {
  id: string;
  walletId: string;
  transferId: string;
  amount: bigint;
  balanceAfter: bigint;
  version: bigint;
  createdAt: Date;
}

/** One money movement asked of the ledger; `amount` is already parsed to minor units. */
export interface TransferOrder {
  kind: 'transfer' | 'deposit' | 'withdrawal';
  fromWalletId?: string | undefined;
  toWalletId?: string | undefined;
  toUsername?: string | undefined;
  /** When set, the user-side wallet (source, or destination of a deposit) must belong to this user. */
  ownerId?: string | undefined;
  amount: bigint;
  currency: string;
  description?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  reference?: string | undefined;
  /** Reserve the amount (pending) instead of posting it; it voids itself after the seconds given. */
  hold?: { expiresInSeconds: number } | undefined;
}

/** Resolves a hold: capture posts all (or `amount`) of it, void and expire release it. */
export interface HoldOrder {
  kind: 'capture' | 'void' | 'expire';
  transferId: string;
  /** When set, the hold's source wallet must belong to this user. */
  ownerId?: string | undefined;
  amount?: bigint | undefined;
}

/** Reverses a posted transfer, all of what is left of it or `amount`, as a new transfer. */
export interface ReversalOrder {
  kind: 'reversal';
  transferId: string;
  amount?: bigint | undefined;
  reason: string;
}

export type LedgerOrder = TransferOrder | HoldOrder | ReversalOrder;

export interface IdempotencyClaim {
  scope: string;
  key: string;
  fingerprint: string;
}

/** One API call's worth of transfers: a single transfer, or a batch. */
export interface PostRequest {
  idempotency?: IdempotencyClaim | undefined;
  atomic?: boolean | undefined;
  actorId?: string | undefined;
  /** The HTTP request id, stored with an idempotent response so that its replay is identical. */
  requestId?: string | undefined;
  transfers: LedgerOrder[];
}

export type TransferResult =
  | { ok: true; transfer: Transfer }
  | { ok: false; code: string; detail?: string | undefined };

export type PostOutcome =
  | { outcome: 'applied' | 'replayed'; requestId: string | null; results: TransferResult[] }
  | { outcome: 'key_reused' | 'key_in_use' };
