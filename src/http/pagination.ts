import { KassaError } from '../ledger/errors.ts';

// Cursors are opaque to clients: base64url of a list tag and the keyset position. The tag stops a
// cursor from one list being replayed against another.

export function encodeCursor(list: string, position: (string | bigint)[]): string {
  return Buffer.from(JSON.stringify([list, ...position.map(String)])).toString('base64url');
}

export function decodeCursor(list: string, cursor: string | undefined, arity: number): string[] | undefined {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new KassaError('invalid_cursor', 'the cursor is not one this API returned');
  }
  if (!Array.isArray(decoded) || decoded[0] !== list || decoded.length !== arity + 1 || !decoded.every((part) => typeof part === 'string')) {
    throw new KassaError('invalid_cursor', 'the cursor is not one this API returned for this list');
  }
  return decoded.slice(1) as string[];
}

/** A cursor holding one integer keyset position. */
export function decodeIntegerCursor(list: string, cursor: string | undefined): bigint | undefined {
  const parts = decodeCursor(list, cursor, 1);
  if (parts === undefined) return undefined;
  if (!/^[0-9]{1,19}$/.test(parts[0]!)) throw new KassaError('invalid_cursor', 'the cursor is not one this API returned');
  return BigInt(parts[0]!);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cursor holding a (created_at, id) keyset position, for lists ordered newest first. */
export function decodeTimeIdCursor(list: string, cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  const parts = decodeCursor(list, cursor, 2);
  if (parts === undefined) return undefined;
  if (Number.isNaN(Date.parse(parts[0]!)) || !uuidPattern.test(parts[1]!)) throw new KassaError('invalid_cursor', 'the cursor is not one this API returned');
  return { createdAt: new Date(parts[0]!), id: parts[1]! };
}
