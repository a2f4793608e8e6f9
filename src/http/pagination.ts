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
