// One schema per resource drives request validation, response serialization and /openapi.json.
import { Type, type Static, type TSchema } from 'typebox';

export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });
export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC timestamp' });
export const Money = Type.String({
  description: 'Decimal string in the currency major unit with exactly `scale` fraction digits, e.g. "12.50"',
  examples: ['12.50'],
});
export const SignedMoney = Type.String({ description: 'Signed decimal string; debits start with `-`', examples: ['-12.50'] });
export const AmountInput = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Positive decimal string with at most `scale` fraction digits ("12.5" and "12.50" are the same USD amount). Never a JSON number.',
  examples: ['12.50'],
});
export const CurrencyCode = Type.String({ pattern: '^[A-Z][A-Z0-9]{2,9}$', description: 'ISO 4217 or crypto code', examples: ['USD'] });
// Any JSON object. Not Type.Record: that compiles to patternProperties "^.*$", which matches no
// key with a line break in it, so the serializer left such keys out of responses (and the key
// length limit given to it was dropped).
const jsonObject = (options: Record<string, unknown> = {}) =>
  Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, ...options });

export const Metadata = jsonObject({
  maxProperties: 50,
  propertyNames: { maxLength: 40 },
  description: 'Up to 50 keys (of at most 40 characters) of your own data, stored and returned as given',
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }))),
  },
  { title: 'Problem', description: 'RFC 9457 problem details' },
);

export const UserSchema = Type.Object(
  {
    id: Uuid,
    username: Type.String(),
    name: Type.String(),
    email: nullable(Type.String()),
    national_id: nullable(Type.String()),
    role: Type.Union([Type.Literal('customer'), Type.Literal('operator'), Type.Literal('admin')]),
    created_at: Timestamp,
  },
  { title: 'User' },
);

export const WalletSchema = Type.Object(
  {
    id: Uuid,
    user_id: Uuid,
    currency: CurrencyCode,
    balance: Money,
    available: Money,
    pending_out: Money,
    pending_in: Money,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Wallet', description: '`balance` is posted; `available = balance - pending_out`' },
);

export const TransferSchema = Type.Object(
  {
    id: Uuid,
    kind: Type.Union([Type.Literal('transfer'), Type.Literal('deposit'), Type.Literal('withdrawal'), Type.Literal('reversal')]),
    status: Type.Union([Type.Literal('posted'), Type.Literal('pending'), Type.Literal('voided')]),
    from_wallet_id: nullable(Uuid),
    to_wallet_id: nullable(Uuid),
    amount: Money,
    captured_amount: Money,
    currency: CurrencyCode,
    description: nullable(Type.String()),
    metadata: nullable(jsonObject()),
    reference: nullable(Type.String()),
    expires_at: nullable(Timestamp),
    hash: nullable(Type.String()),
    reverses_transfer_id: nullable(Uuid),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Transfer' },
);

export const EntrySchema = Type.Object(
  { id: Uuid, wallet_id: Uuid, transfer_id: Uuid, amount: SignedMoney, balance_after: Money, created_at: Timestamp },
  { title: 'Entry' },
);

export const CurrencySchema = Type.Object(
  { code: CurrencyCode, name: Type.String(), scale: Type.Integer(), kind: Type.Union([Type.Literal('fiat'), Type.Literal('crypto')]) },
  { title: 'Currency' },
);

export const eventTypes = [
  'user.created',
  'wallet.created',
  'transfer.created',
  'transfer.posted',
  'transfer.voided',
  'transfer.reversed',
  'deposit.created',
  'withdrawal.created',
] as const;
export type EventType = (typeof eventTypes)[number];

export const EventSchema = Type.Object(
  {
    id: Uuid,
    sequence: Type.String({ pattern: '^[0-9]+$', description: 'Place in the event order; pass as `after` (or `Last-Event-ID`) to resume after it' }),
    type: Type.Unsafe<EventType>(Type.String({ enum: [...eventTypes] })),
    created_at: Timestamp,
    wallet_ids: Type.Array(Uuid, { description: 'The wallets this event concerns' }),
    data: jsonObject({ description: 'The Transfer for transfer.*, deposit.* and withdrawal.* events; ids for user.created and wallet.created' }),
  },
  { title: 'Event', description: '`id` is stable across redeliveries' },
);

export const listOf = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page' })) });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export const IdParams = Type.Object({ id: Uuid });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Required: 1 to 255 characters, unique per money movement' })),
});

/**
 * Every route documents its problem responses with the same schema. Any route may also answer
 * 401 (a malformed token is refused everywhere), 429, 500 and 503.
 */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set([...statuses, 401, 429, 500, 503])].sort().map((status) => [status, { ...ProblemSchema, description: 'Problem details (application/problem+json)' }]),
  );

export type UserWire = Static<typeof UserSchema>;
export type WalletWire = Static<typeof WalletSchema>;
export type TransferWire = Static<typeof TransferSchema>;
export type EntryWire = Static<typeof EntrySchema>;
export type EventWire = Static<typeof EventSchema>;
