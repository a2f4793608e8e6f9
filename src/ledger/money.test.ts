import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { amountMax, formatAmount, parseAmount, parsePositiveAmount } from './money.ts';

test('parses decimal strings into minor units per scale', () => {
  assert.deepEqual(parseAmount('12.5', 2), { ok: true, minor: 1250n });
  assert.deepEqual(parseAmount('12.50', 2), { ok: true, minor: 1250n });
  assert.deepEqual(parseAmount('1200', 0), { ok: true, minor: 1200n });
  assert.deepEqual(parseAmount('0.0001', 8), { ok: true, minor: 10000n });
  assert.deepEqual(parseAmount('1.000000000000000001', 18), { ok: true, minor: 10n ** 18n + 1n });
});

test('rejects too many fraction digits instead of rounding', () => {
  assert.equal(parseAmount('12.505', 2).ok, false);
  assert.equal(parseAmount('1.5', 0).ok, false);
});

test('rejects every non-canonical or non-string form', () => {
  for (const bad of [12.5, 1, null, undefined, '', ' 1', '1 ', '+1', '-1', '1e3', '0x10', '01', '1.', '.5', '1,5', 'NaN', 'Infinity', '１']) {
    assert.equal(parseAmount(bad, 2).ok, false, `accepted ${JSON.stringify(bad)}`);
  }
});

test('rejects amounts wider than the ledger column', () => {
  assert.equal(parseAmount('1' + '0'.repeat(38), 0).ok, false);
  assert.deepEqual(parseAmount(amountMax.toString(), 0), { ok: true, minor: amountMax });
});

test('positive amounts exclude zero', () => {
  assert.equal(parsePositiveAmount('0.00', 2).ok, false);
  assert.equal(parsePositiveAmount('0.01', 2).ok, true);
});

test('formats with exactly scale digits and a leading minus', () => {
  assert.equal(formatAmount(1250n, 2), '12.50');
  assert.equal(formatAmount(5n, 2), '0.05');
  assert.equal(formatAmount(10000n, 8), '0.00010000');
  assert.equal(formatAmount(1200n, 0), '1200');
  assert.equal(formatAmount(-1250n, 2), '-12.50');
  assert.equal(formatAmount(0n, 18), '0.000000000000000000');
});

test('format then parse is the identity for every amount and scale', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: amountMax }), fc.integer({ min: 0, max: 18 }), (minor, scale) => {
      const parsed = parseAmount(formatAmount(minor, scale), scale);
      assert.deepEqual(parsed, { ok: true, minor });
    }),
    { numRuns: 2000 },
  );
});

test('parse then format is canonical for every valid decimal string', () => {
  const decimal = fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 18 }), fc.integer({ min: 0, max: 18 }))
    .map(([minor, scale, digits]) => ({ scale, text: formatAmount(minor, Math.min(digits, scale)) }));
  fc.assert(
    fc.property(decimal, ({ text, scale }) => {
      const parsed = parseAmount(text, scale);
      assert.equal(parsed.ok, true);
      const [whole, fraction = ''] = text.split('.');
      const canonical = scale === 0 ? whole : `${whole}.${fraction.padEnd(scale, '0')}`;
      if (parsed.ok) assert.equal(formatAmount(parsed.minor, scale), canonical);
    }),
  );
});
