import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';

test('the embedded database refuses a taken port with one clear line', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as net.AddressInfo;
  try {
    await assert.rejects(
      startEmbeddedPostgres({ dataDir: path.join(os.tmpdir(), 'kassa-port-test'), port }),
      (error: Error) => error.message === `embedded PostgreSQL: port ${port} is already in use; set EMBEDDED_PG_PORT or DATABASE_URL`,
    );
  } finally {
    blocker.close();
  }
});
