// The plain-process deployment: two production instances behind a load balancer on loopback,
// sharing PostgreSQL and Redis, serving the README's curl walkthrough (npm run cluster).
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { findFreePort } from '../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { redisUrl, requireService } from './helpers/services.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db.drop());

function requireTool(t: TestContext, name: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is not installed; CI needs it`);
  t.skip(`${name} is not installed`);
  return false;
}

test('two instances behind a load balancer serve the README walkthrough, both taking requests', async (t) => {
  if (!(await requireService(t, 'Redis', redisUrl)) || !requireTool(t, 'curl') || !requireTool(t, 'jq')) return;
  const port = await findFreePort();
  const cluster = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts', '--walkthrough'], {
    env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: redisUrl, PORT: String(port), LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  cluster.stdout.on('data', (chunk) => (output += chunk));
  cluster.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => cluster.on('exit', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /walkthrough passed through the load balancer/);
  assert.match(output, /requests served by instance a: [1-9]\d*, b: [1-9]\d*/, 'both instances took requests');
});
