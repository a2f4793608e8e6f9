import type { Pool, Queryable } from '../db/pool.ts';
import { booleanArray, int4Array, jsonbArray, textArray, uuidArray } from '../db/binaryArrays.ts';
import type { IdempotencyClaim, PostOutcome, PostRequest, Transfer, TransferResult } from '../ledger/transfer.ts';
import { withRetry } from './retry.ts';

export interface TransferSnapshot {
  id: string;
  kind: Transfer['kind'];
  status: Transfer['status'];
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: string;
  captured_amount: string;
  currency: string;
  description: string | null;
  metadata: Record<string, unknown> | null;
  reference: string | null;
  expires_at: string | null;
  hash: string | null;
  reverses_transfer_id: string | null;
  created_at: string;
  updated_at: string;
}

type ResultSnapshot = { transfer: TransferSnapshot } | { error: { code: string; detail?: string } };

/** A transfer as the write function (and so an idempotent replay) records it. */
export function transferFromSnapshot(snapshot: TransferSnapshot): Transfer {
  return {
    id: snapshot.id,
    kind: snapshot.kind,
    status: snapshot.status,
    fromWalletId: snapshot.from_wallet_id,
    toWalletId: snapshot.to_wallet_id,
    amount: BigInt(snapshot.amount),
    capturedAmount: BigInt(snapshot.captured_amount),
    currency: snapshot.currency,
    description: snapshot.description,
    metadata: snapshot.metadata,
    reference: snapshot.reference,
    expiresAt: snapshot.expires_at === null ? null : new Date(snapshot.expires_at),
    hash: snapshot.hash,
    reversesTransferId: snapshot.reverses_transfer_id,
    createdAt: new Date(snapshot.created_at),
    updatedAt: new Date(snapshot.updated_at),
  };
}

function resultFromSnapshot(snapshot: ResultSnapshot): TransferResult {
  if ('transfer' in snapshot) return { ok: true, transfer: transferFromSnapshot(snapshot.transfer) };
  return { ok: false, code: snapshot.error.code, detail: snapshot.error.detail };
}

/** A request as the write function reads it: snake_case, one field per column of its parameters. */
export interface WriteRequest {
  idempotency?: IdempotencyClaim | undefined;
  atomic?: boolean | undefined;
  actor_id?: string | undefined;
  request_id?: string | undefined;
  transfers: WriteItem[];
}

export interface WriteItem {
  kind: string;
  from_wallet_id?: string | undefined;
  to_wallet_id?: string | undefined;
  to_username?: string | undefined;
  owner_id?: string | undefined;
  /** Minor units as a whole number; the function checks it (so a test can hand it anything). */
  amount?: string | null | undefined;
  currency?: string | undefined;
  description?: string | undefined;
  metadata?: unknown;
  reference?: string | undefined;
  hold?: boolean | undefined;
  expires_in_seconds?: number | undefined;
  transfer_id?: string | undefined;
}

type ColumnType = 'text' | 'uuid' | 'boolean' | 'int' | 'jsonb';
export interface WriteColumn {
  type: ColumnType;
  values: unknown[];
}

/**
 * kassa_post_transfers' parameters, in its order: per request (its id, actor, atomic, and the
 * idempotency key's scope, key and fingerprint), then per item across all requests in order (the
 * request it belongs to, counted from 1, and its fields). A field with no value is NULL.
 */
export function writeColumns(requests: WriteRequest[]): WriteColumn[] {
  const items = requests.flatMap((request, index) => request.transfers.map((item) => ({ request: index + 1, item })));
  const perRequest = (type: ColumnType, field: (request: WriteRequest) => unknown): WriteColumn => ({ type, values: requests.map(field) });
  const perItem = (type: ColumnType, field: (item: WriteItem) => unknown): WriteColumn => ({ type, values: items.map(({ item }) => field(item)) });
  return [
    perRequest('text', (request) => request.request_id),
    perRequest('uuid', (request) => request.actor_id),
    perRequest('boolean', (request) => request.atomic ?? false),
    perRequest('text', (request) => request.idempotency?.scope),
    perRequest('text', (request) => request.idempotency?.key),
    perRequest('text', (request) => request.idempotency?.fingerprint),
    { type: 'int', values: items.map(({ request }) => request) },
    perItem('text', (item) => item.kind),
    perItem('uuid', (item) => item.from_wallet_id),
    perItem('uuid', (item) => item.to_wallet_id),
    perItem('text', (item) => item.to_username),
    perItem('uuid', (item) => item.owner_id),
    perItem('text', (item) => item.amount),
    perItem('text', (item) => item.currency),
    perItem('text', (item) => item.description),
    perItem('jsonb', (item) => item.metadata),
    perItem('text', (item) => item.reference),
    perItem('boolean', (item) => item.hold),
    perItem('int', (item) => item.expires_in_seconds),
    perItem('uuid', (item) => item.transfer_id),
  ];
}

/** The call that takes these columns ($1::text[], $2::uuid[], …), with `select` before it. */
export function writeCall(columns: WriteColumn[], name = 'kassa_post_transfers', select = 'request_index, outcome, response'): string {
  return `select ${select} from ${name}(${columns.map((column, index) => `$${index + 1}::${column.type}[]`).join(', ')})`;
}

const binaryArrayOf: Record<ColumnType, (values: never[]) => Buffer> = {
  text: textArray,
  uuid: uuidArray,
  boolean: booleanArray,
  int: int4Array,
  jsonb: jsonbArray,
};

/**
 * The query that writes these requests with kassa_post_transfers (or a copy of it named `name`),
 * its columns sent as binary arrays: the serial writer then parses no text to read them.
 */
export function writeQuery(requests: WriteRequest[], name?: string, select?: string): { text: string; values: Buffer[] } {
  const columns = writeColumns(requests);
  return { text: writeCall(columns, name, select), values: columns.map((column) => binaryArrayOf[column.type](column.values as never[])) };
}

export function requestToWrite(request: PostRequest): WriteRequest {
  return {
    idempotency: request.idempotency,
    atomic: request.atomic,
    actor_id: request.actorId,
    request_id: request.requestId,
    transfers: request.transfers.map((order): WriteItem =>
      'transferId' in order
        ? {
            kind: order.kind,
            transfer_id: order.transferId,
            owner_id: 'ownerId' in order ? order.ownerId : undefined,
            amount: order.amount?.toString(),
            description: 'reason' in order ? order.reason : undefined,
          }
        : {
            kind: order.kind,
            from_wallet_id: order.fromWalletId,
            to_wallet_id: order.toWalletId,
            to_username: order.toUsername,
            owner_id: order.ownerId,
            amount: order.amount.toString(),
            currency: order.currency,
            description: order.description,
            metadata: order.metadata,
            reference: order.reference,
            hold: order.hold ? true : undefined,
            expires_in_seconds: order.hold?.expiresInSeconds,
          },
    ),
  };
}

/**
 * Applies a batch of requests in one round trip and one commit (kassa_post_transfers), on the pool
 * or on a writer's pipelined connection. Deadlocks and serialization failures roll the whole call
 * back, so it is retried whole.
 */
export async function postTransfers(pool: Queryable, requests: PostRequest[]): Promise<PostOutcome[]> {
  const query = writeQuery(requests.map(requestToWrite));
  const { rows } = await withRetry(() =>
    pool.query<{ request_index: number; outcome: PostOutcome['outcome']; response: { request_id: string | null; results: ResultSnapshot[] } | null }>(query.text, query.values),
  );
  return rows
    .sort((a, b) => a.request_index - b.request_index)
    .map((row): PostOutcome => {
      if (row.outcome === 'key_reused' || row.outcome === 'key_in_use') return { outcome: row.outcome };
      return { outcome: row.outcome, requestId: row.response!.request_id, results: row.response!.results.map(resultFromSnapshot) };
    });
}

const transferColumns = `
  t.id, t.kind, t.status,
  case when exists (select 1 from accounts a where a.id = t.from_account_id and a.kind = 'wallet') then t.from_account_id end as from_wallet_id,
  case when exists (select 1 from accounts a where a.id = t.to_account_id and a.kind = 'wallet') then t.to_account_id end as to_wallet_id,
  t.amount, t.captured_amount, t.currency, t.description, t.metadata, t.reference,
  t.expires_at, t.hash, t.reverses_transfer_id, t.created_at, t.updated_at, t.seq`;

interface TransferRow {
  id: string;
  kind: Transfer['kind'];
  status: Transfer['status'];
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: bigint;
  captured_amount: bigint;
  currency: string;
  description: string | null;
  metadata: Record<string, unknown> | null;
  reference: string | null;
  expires_at: Date | null;
  hash: string | null;
  reverses_transfer_id: string | null;
  created_at: Date;
  updated_at: Date;
  seq: bigint;
}

function transferFromRow(row: TransferRow): Transfer {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    fromWalletId: row.from_wallet_id,
    toWalletId: row.to_wallet_id,
    amount: row.amount,
    capturedAmount: row.captured_amount,
    currency: row.currency,
    description: row.description,
    metadata: row.metadata,
    reference: row.reference,
    expiresAt: row.expires_at,
    hash: row.hash,
    reversesTransferId: row.reverses_transfer_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface TransferWithParties {
  transfer: Transfer;
  /** User ids owning the source and destination wallets (null for system accounts). */
  fromUserId: string | null;
  toUserId: string | null;
}

export async function getTransfer(pool: Pool, id: string): Promise<TransferWithParties | undefined> {
  const { rows } = await pool.query<TransferRow & { from_user_id: string | null; to_user_id: string | null }>(
    `select ${transferColumns}, fa.user_id as from_user_id, ta.user_id as to_user_id
       from transfers t
       join accounts fa on fa.id = t.from_account_id
       join accounts ta on ta.id = t.to_account_id
      where t.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { transfer: transferFromRow(row), fromUserId: row.from_user_id, toUserId: row.to_user_id };
}

export interface Page<T> {
  items: T[];
  /** Key of the last item when more items follow, else null. */
  next: bigint | null;
}

/**
 * Transfers touching any of the given wallets (or every transfer, for operators), newest first,
 * keyset-paginated on the insertion sequence. Each wallet side is read in index order with its
 * own limit, so a page costs the same however long the history is.
 */
export async function listTransfers(
  pool: Pool,
  scope: { walletIds: string[] } | 'all',
  options: { limit: number; before?: bigint | undefined },
): Promise<Page<Transfer>> {
  const before = (options.before ?? 2n ** 63n - 1n).toString();
  const { rows } =
    scope === 'all'
      ? await pool.query<TransferRow>(`select ${transferColumns} from transfers t where t.seq < $1 order by t.seq desc limit $2`, [before, options.limit + 1])
      : await pool.query<TransferRow>(
          `select ${transferColumns} from (
             select distinct on (x.seq) x.* from unnest($1::uuid[]) w(id) cross join lateral (
               (select * from transfers where from_account_id = w.id and seq < $2 order by seq desc limit $3)
               union all
               (select * from transfers where to_account_id = w.id and seq < $2 order by seq desc limit $3)
             ) x
           ) t order by t.seq desc limit $3`,
          [scope.walletIds, before, options.limit + 1],
        );
  const items = rows.slice(0, options.limit);
  return { items: items.map(transferFromRow), next: rows.length > options.limit ? items[items.length - 1]!.seq : null };
}
