// Money in the console is what the API sends: decimal strings. Nothing here turns an amount into a
// float: formatting hands the string to Intl.NumberFormat (which formats decimal strings exactly),
// and input is checked as text against the currency's scale.

const fiatFormats = new Map();

/** "1234.50", USD → "$1,234.50" (in the reader's locale); crypto → "0.00010000 BTC". */
export function formatMoney(amount, currency, kind = 'fiat') {
  const scale = (String(amount).split('.')[1] ?? '').length;
  const key = `${currency}:${scale}:${kind}`;
  if (!fiatFormats.has(key)) {
    const options = kind === 'fiat'
      ? { style: 'currency', currency, minimumFractionDigits: scale, maximumFractionDigits: scale }
      : { minimumFractionDigits: scale, maximumFractionDigits: scale };
    try {
      fiatFormats.set(key, new Intl.NumberFormat(undefined, options));
    } catch {
      fiatFormats.set(key, new Intl.NumberFormat(undefined, { minimumFractionDigits: scale, maximumFractionDigits: scale }));
    }
  }
  const text = fiatFormats.get(key).format(String(amount)); // a string keeps every digit
  return kind === 'fiat' ? text : `${text} ${currency}`;
}

/** Checks an amount typed by a person: a positive decimal with at most `scale` fraction digits. */
export function amountProblem(text, scale) {
  const value = text.trim();
  if (value === '') return 'Enter an amount.';
  const pattern = scale === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${scale}})?$`);
  if (!pattern.test(value)) return scale === 0 ? 'Enter a whole amount, without decimals.' : `Enter an amount like 12.50, with at most ${scale} decimals.`;
  if (/^0+(\.0*)?$/.test(value)) return 'The amount must be more than zero.';
  return undefined;
}
