import type { Pool, PoolClient } from '../db/pool.ts';

const reconnectDelayMs = 1_000;

/**
 * Wakes live streams when the sequencer (in any instance) has numbered new events: one LISTEN
 * connection per process, opened with the first subscriber and reopened if it drops. Streams also
 * poll, so a missed notification only delays them.
 */
export class EventNotifier {
  private readonly listeners = new Set<() => void>();
  private client: PoolClient | undefined;
  private connecting = false;
  private closed = false;

  constructor(private readonly pool: Pool, private readonly onError: (error: unknown) => void) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.connecting) void this.connect();
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.connecting = true;
    try {
      const client = await this.pool.connect();
      client.on('notification', () => this.listeners.forEach((listener) => listener()));
      client.on('error', (error) => {
        this.onError(error);
        this.drop(client);
      });
      await client.query('listen kassa_events');
      this.client = client;
      if (this.closed) this.drop(client);
    } catch (error) {
      this.onError(error);
      setTimeout(() => void this.connect(), reconnectDelayMs).unref();
    } finally {
      this.connecting = false;
    }
  }

  private drop(client: PoolClient): void {
    if (this.client === client) this.client = undefined;
    try {
      client.release(true);
    } catch {
      // already released by an earlier error
    }
    if (!this.closed && this.listeners.size > 0) setTimeout(() => void this.connect(), reconnectDelayMs).unref();
  }

  close(): void {
    this.closed = true;
    if (this.client) this.drop(this.client);
  }
}
