import pg from 'pg';

// int8 and numeric columns hold money and counters: parse them as bigint, never as number.
// A numeric with a fraction is a programmer error, so BigInt() throwing on it is the right crash.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (text: string) => BigInt(text);
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PoolOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'kassa',
    types,
  });
  // An idle client losing its server (e.g. a database restart) must not crash the process;
  // the next checkout reconnects.
  pool.on('error', () => {});
  return pool;
}

export type Pool = pg.Pool;
/** Runs one query: the pool, or a connection of its own (a writer's, src/db/pipelined.ts). */
export interface Queryable {
  query<Row extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<Row>>;
}
export type PoolClient = pg.PoolClient;
