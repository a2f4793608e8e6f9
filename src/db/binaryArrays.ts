// Arrays in PostgreSQL's binary format (what array_send writes and array_recv reads). node-postgres
// sends a Buffer parameter as binary, so the server takes these arrays in without parsing any text:
// a uuid is 16 bytes copied, a string its bytes. The serial writer parses every byte of its
// parameters, and reading the same batch as JSON (jsonb, then each field's text form) cost it ~6 µs
// a transfer more (measured on 2,000-transfer calls).
//
// Layout: dimensions (1, or 0 for an empty array), a has-nulls flag, the element type's OID, then
// for the one dimension its length and lower bound (1), then each element as a 4-byte length (-1
// for NULL) and its bytes. The SQL that takes the parameter names its type (`$1::uuid[]`), and the
// server refuses an array whose element OID is not that type's.

type Value<T> = T | null | undefined;

interface ElementType<T> {
  oid: number;
  /** Bytes the element takes. */
  size(value: T): number;
  /** Writes the element at offset; returns the bytes written. */
  write(buffer: Buffer, offset: number, value: T): number;
}

function encode<T>(type: ElementType<T>, values: readonly Value<T>[]): Buffer {
  if (values.length === 0) {
    const empty = Buffer.alloc(12);
    empty.writeUInt32BE(type.oid, 8);
    return empty;
  }
  let size = 20;
  let hasNulls = false;
  for (const value of values) {
    if (value === null || value === undefined) hasNulls = true;
    size += 4 + (value === null || value === undefined ? 0 : type.size(value));
  }
  const buffer = Buffer.allocUnsafe(size);
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4);
  buffer.writeUInt32BE(type.oid, 8);
  buffer.writeInt32BE(values.length, 12);
  buffer.writeInt32BE(1, 16);
  let offset = 20;
  for (const value of values) {
    if (value === null || value === undefined) {
      buffer.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      const written = type.write(buffer, offset + 4, value);
      buffer.writeInt32BE(written, offset);
      offset += 4 + written;
    }
  }
  return buffer;
}

// Most strings here are short and ASCII (kinds, amounts, currency codes, keys): copied a character at
// a time, they skip Buffer's native calls, which cost more than the copy for strings this short.
function isAscii(value: string): boolean {
  for (let index = 0; index < value.length; index++) if (value.charCodeAt(index) > 0x7f) return false;
  return true;
}

const text: ElementType<string> = {
  oid: 25,
  size: (value) => (isAscii(value) ? value.length : Buffer.byteLength(value, 'utf8')),
  write: (buffer, offset, value) => {
    if (!isAscii(value)) return buffer.write(value, offset, 'utf8');
    for (let index = 0; index < value.length; index++) buffer[offset + index] = value.charCodeAt(index);
    return value.length;
  },
};

// The forms the API's `format: uuid` accepts (ajv-formats): 8-4-4-4-12 hex digits, either case,
// optionally after "urn:uuid:". Anything else reaching the ledger is a bug upstream; it throws
// rather than become some other id.
const hexDigit = new Int8Array(128).fill(-1);
for (const [digits, first] of [['0123456789', 0], ['abcdef', 10], ['ABCDEF', 10]] as const) {
  for (let index = 0; index < digits.length; index++) hexDigit[digits.charCodeAt(index)] = first + index;
}
const hex = (code: number): number => (code < 128 ? hexDigit[code]! : -1);
const urnPrefix = 'urn:uuid:';

const uuid: ElementType<string> = {
  oid: 2950,
  size: () => 16,
  write: (buffer, offset, value) => {
    const start = value.length === 36 + urnPrefix.length && value.startsWith(urnPrefix) ? urnPrefix.length : 0;
    if (value.length - start !== 36) throw new TypeError(`not a UUID: ${JSON.stringify(value)}`);
    let byte = 0;
    for (let index = start; index < value.length; ) {
      const position = index - start;
      if (position === 8 || position === 13 || position === 18 || position === 23) {
        if (value.charCodeAt(index) !== 0x2d) throw new TypeError(`not a UUID: ${JSON.stringify(value)}`);
        index++;
        continue;
      }
      const [high, low] = [hex(value.charCodeAt(index)), hex(value.charCodeAt(index + 1))];
      if (high < 0 || low < 0) throw new TypeError(`not a UUID: ${JSON.stringify(value)}`);
      buffer[offset + byte++] = (high << 4) | low;
      index += 2;
    }
    return 16;
  },
};

const boolean: ElementType<boolean> = {
  oid: 16,
  size: () => 1,
  write: (buffer, offset, value) => buffer.writeUInt8(value ? 1 : 0, offset) - offset,
};

const int4: ElementType<number> = {
  oid: 23,
  size: () => 4,
  write: (buffer, offset, value) => buffer.writeInt32BE(value, offset) - offset,
};

// jsonb's binary form is a version byte (1) and the document as text, which the server parses.
const jsonbText: ElementType<string> = {
  oid: 3802,
  size: (value) => 1 + Buffer.byteLength(value, 'utf8'),
  write: (buffer, offset, value) => buffer.writeUInt8(1, offset) - offset + buffer.write(value, offset + 1, 'utf8'),
};

export const textArray = (values: readonly Value<string>[]): Buffer => encode(text, values);
export const uuidArray = (values: readonly Value<string>[]): Buffer => encode(uuid, values);
export const booleanArray = (values: readonly Value<boolean>[]): Buffer => encode(boolean, values);
export const int4Array = (values: readonly Value<number>[]): Buffer => encode(int4, values);
export const jsonbArray = (values: readonly unknown[]): Buffer =>
  encode(jsonbText, values.map((value) => (value === null || value === undefined ? null : JSON.stringify(value))));
