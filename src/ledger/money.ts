// Money is an integer count of minor units (bigint). Decimal strings are the only wire format;
// no float ever touches an amount.

const decimalPattern = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** Largest amount the ledger stores: NUMERIC(38,0). */
export const amountMax = 10n ** 38n - 1n;

export type ParsedAmount = { ok: true; minor: bigint } | { ok: false; reason: string };

/**
 * Parses a non-negative decimal string in major units into minor units for a currency scale.
 * `"12.5"` at scale 2 → 1250n. More fraction digits than the scale is rejected, never rounded.
 */
export function parseAmount(text: unknown, scale: number): ParsedAmount {
  if (typeof text !== 'string') return { ok: false, reason: 'amount must be a decimal string' };
  const match = decimalPattern.exec(text);
  if (!match) return { ok: false, reason: 'amount must be a plain decimal string such as "12.50"' };
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > scale) {
    return { ok: false, reason: `amount has more than ${scale} fraction digits` };
  }
  if (whole.length > 40) return { ok: false, reason: 'amount is too large' };
  const minor = BigInt(whole + fraction.padEnd(scale, '0'));
  if (minor > amountMax) return { ok: false, reason: 'amount is too large' };
  return { ok: true, minor };
}

/** Parses an amount that must be strictly positive (every money movement). */
export function parsePositiveAmount(text: unknown, scale: number): ParsedAmount {
  const parsed = parseAmount(text, scale);
  if (parsed.ok && parsed.minor === 0n) return { ok: false, reason: 'amount must be greater than zero' };
  return parsed;
}

/** Renders minor units with exactly `scale` fraction digits; negatives get a leading `-`. */
export function formatAmount(minor: bigint, scale: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  const text = scale === 0 ? whole : `${whole}.${fraction}`;
  return negative ? `-${text}` : text;
}
