import pg from 'pg';
import type { Pool, Queryable } from './pool.ts';

/**
 * One connection of the pool's settings in pg's pipeline mode, for a serial writer: each query is
 * sent at once, behind those still running, so the server starts it the moment the one before
 * commits instead of waiting for this process to read that answer and send the next (on two
 * shared cores the process is often not on a CPU at that moment: the writer sat idle 20% of the
 * uniform benchmark). Each query is still its own transaction (pg ends each with a Sync).
 * A connection that fails fails the queries sent on it; the next query opens a new one.
 */
export interface PipelinedConnection extends Queryable {
  /** Queries sent and not yet answered. */
  readonly pending: number;
  end(): Promise<void>;
}

// A query failing with no SQLSTATE (the socket), or in these classes, leaves its connection unusable:
// connection exceptions (08) and operator intervention (57: terminated, shutting down).
const connectionLostClasses = ['08', '57'];

function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code !== 'string' || connectionLostClasses.includes(code.slice(0, 2));
}

export function createPipelinedConnection(pool: Pool): PipelinedConnection {
  let client: Promise<pg.Client> | undefined;
  let pending = 0;

  function connection(): Promise<pg.Client> {
    if (!client) {
      const fresh = new pg.Client({ ...pool.options, pipeline: true });
      const connecting = fresh.connect().then(() => fresh);
      const forget = () => {
        if (client === connecting) client = undefined;
      };
      // The server went away: what was sent fails, and the next query opens a new connection.
      fresh.on('error', forget);
      fresh.on('end', forget);
      connecting.catch(forget);
      client = connecting;
    }
    return client;
  }

  return {
    async query<Row extends pg.QueryResultRow>(text: string, values: unknown[]) {
      pending++;
      const current = connection();
      try {
        return await (await current).query<Row>(text, values);
      } catch (error) {
        // Not left for the socket's events to tell: a query sent before they fire would be lost too.
        if (connectionLost(error) && client === current) client = undefined;
        throw error;
      } finally {
        pending--;
      }
    },
    get pending() {
      return pending;
    },
    async end() {
      const current = client;
      client = undefined;
      const open = await current?.catch(() => undefined);
      await open?.end();
    },
  };
}
