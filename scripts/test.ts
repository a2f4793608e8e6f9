// `npm test`: runs every *.test.ts under src/ and test/ with node's test runner.
// Without DATABASE_URL it starts the embedded PostgreSQL for the run and stops it afterwards;
// each test file creates its own database on that server, so files run in parallel.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { findFreePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts';

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

const filters = process.argv.slice(2);
// The chaos run crashes its own database and takes minutes: it is `npm run test:chaos`.
const files = [...findTests('src'), ...findTests('test').filter((file) => !file.startsWith(path.join('test', 'chaos')))].filter(
  (file) => filters.length === 0 || filters.some((f) => file.includes(f)),
);

let embedded: EmbeddedDatabase | undefined;
if (!process.env.DATABASE_URL) {
  embedded = await startEmbeddedPostgres({ dataDir: path.join(process.env.DATA_DIR ?? '.data', 'test'), port: await findFreePort() });
  process.env.DATABASE_URL = embedded.url;
  console.log(`test database: embedded PostgreSQL at ${embedded.url.replace(/:[^:@/]*@/, '@')}`);
} else {
  console.log(`test database: ${process.env.DATABASE_URL.replace(/:[^:@/]*@/, '@')}`);
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=3', ...files], { stdio: 'inherit' });
const exitCode = await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
await embedded?.stop();
process.exit(exitCode);
