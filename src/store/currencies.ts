import type { Currency } from '../ledger/currencies.ts';
import type { Pool } from '../db/pool.ts';

export async function loadCurrencies(pool: Pool): Promise<Map<string, Currency>> {
  const { rows } = await pool.query<Currency>('select code, name, scale, kind from currencies order by code');
  return new Map(rows.map((row) => [row.code, row]));
}
