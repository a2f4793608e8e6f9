// npm run bench [-- --duration 20 --warmup 5 --connections 64 --workloads uniform,hot,batch --soak]
// Starts the production build against PostgreSQL (embedded, or DATABASE_URL), seeds 10,000 funded
// wallets, drives the workloads with autocannon, measures the one-transaction-per-transfer
// yardstick on the same machine, verifies the ledger, and writes bench/results/latest.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { findFreePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';
import { verifyLedger } from '../src/store/verify.ts';
import { seed } from './seed.ts';
import { drive, workloadEndpoint, type LoadResult, type Workload } from './workloads.ts';
import { prepareYardstick, runYardstick, type YardstickResult } from './yardstick.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    wallets: { type: 'string', default: '10000' },
    soak: { type: 'boolean', default: false },
    workloads: { type: 'string', default: 'uniform,hot,batch' },
    profile: { type: 'boolean', default: false },
  },
});
const durationSeconds = Number(args.duration);
const warmUpSeconds = Number(args.warmup);
const connections = Number(args.connections);
const walletCount = Number(args.wallets);
const jwtSecret = 'benchmark-secret-benchmark-secret-benchmark';

/** CPU seconds a process has used (user + system), from /proc. */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
}

/** Busy and total CPU time of the whole machine, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const values = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3]! + values[4]!;
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

interface ServerSamples {
  /** RSS in MB, once a second. */
  rssMb: number[];
  /** Transfers the API had posted (its kassa_transfers_total), every 30 s from the start. */
  postedEvery30s: number[];
}

/**
 * Samples the API's RSS once a second, and how many transfers it has posted every 30 s, on a
 * thread of its own: autocannon keeps this thread's event loop so busy that a timer here fired
 * only 20 times in a 5-minute soak.
 */
function startServerSampler(pid: number, url: string): { stop(): Promise<ServerSamples> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { readFileSync } = require('node:fs');
     const rssMb = [];
     const postedEvery30s = [];
     const sampleRss = () => rssMb.push(Number(/VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/' + workerData.pid + '/status', 'utf8'))?.[1] ?? 0) / 1024);
     const samplePosted = async () => {
       const text = await (await fetch(workerData.url + '/metrics')).text();
       postedEvery30s.push(Number(/^kassa_transfers_total\\{outcome="posted"\\} (\\S+)$/m.exec(text)?.[1] ?? 0));
     };
     let ticks = 0;
     const pending = [samplePosted()];
     const timer = setInterval(() => {
       sampleRss();
       if (++ticks % 30 === 0) pending.push(samplePosted());
     }, 1000);
     parentPort.once('message', async () => {
       clearInterval(timer);
       sampleRss();
       await Promise.all(pending);
       parentPort.postMessage({ rssMb, postedEvery30s });
     });`,
    { eval: true, workerData: { pid, url } },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        worker.once('message', (samples: ServerSamples) => void worker.terminate().then(() => resolve(samples)));
        worker.postMessage('stop');
      }),
  };
}

async function startServer(databaseUrl: string): Promise<{ process: ChildProcess; url: string }> {
  const port = await findFreePort();
  const profiling = args.profile ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profile'] : [];
  const child = spawn(process.execPath, [...profiling, 'dist/main.js'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: jwtSecret, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000000', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 150; attempt++) {
    if ((await fetch(`${url}/ready`).catch(() => undefined))?.ok) return { process: child, url };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the API did not become ready');
}

/** What one scrape of the API's /metrics tells: the coalescer's running totals, and the
 *  cumulative latency buckets of successful money requests as the API measured them. */
interface ServerTotals {
  requests: number;
  writes: number;
  seconds: number;
  /** Upper bound in seconds → requests that took at most that long, for the workload's route. */
  latencyBuckets: Map<number, number>;
}

async function serverTotals(url: string, workload: Workload): Promise<ServerTotals> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const { path: route, status } = workloadEndpoint(workload);
  const latencyBuckets = new Map<number, number>();
  for (const match of text.matchAll(/^kassa_http_request_duration_seconds_bucket\{le="([^"]+)",method="POST",route="([^"]+)",status="(\d+)"\} (\S+)$/gm)) {
    if (match[2] === route && Number(match[3]) === status) latencyBuckets.set(match[1] === '+Inf' ? Infinity : Number(match[1]), Number(match[4]));
  }
  return {
    requests: value('kassa_ledger_batch_requests_sum'),
    writes: value('kassa_ledger_batch_requests_count'),
    seconds: value('kassa_ledger_write_duration_seconds_sum'),
    latencyBuckets,
  };
}

/** The smallest bucket bound (ms) within which `quantile` of the requests between two scrapes finished in the API. */
function serverLatencyBoundMs(before: ServerTotals, after: ServerTotals, quantile: number): number | null {
  const bounds = [...after.latencyBuckets.keys()].sort((a, b) => a - b);
  const within = (bound: number) => after.latencyBuckets.get(bound)! - (before.latencyBuckets.get(bound) ?? 0);
  const total = within(Infinity);
  if (!total) return null;
  const bound = bounds.find((candidate) => within(candidate) >= quantile * total)!;
  return Number.isFinite(bound) ? bound * 1_000 : null;
}

interface WorkloadReport extends LoadResult {
  workload: Workload;
  transfersPerSecond: number;
  peakRssMb: number;
  rssSamplesMb: number[];
  /** Transfers/s the API posted in each whole 30 s of the run. */
  transfersPerSecondEvery30s: number[];
  /** Share of one core the API process used, and of the whole machine everything used. */
  apiCpuPercentOfOneCore: number;
  machineBusyPercent: number;
  /** Mean money requests per coalesced write, and mean time of one write (send to commit). */
  requestsPerWrite: number;
  writeMs: number;
  /** p50 and p99 as the API measured them (from its latency histogram: the bucket bound each falls
   *  within), without the load generator's own queueing on the shared cores. */
  serverP50WithinMs: number | null;
  serverP99WithinMs: number | null;
}

async function measure(server: { process: ChildProcess; url: string }, pool: pg.Pool, workload: Workload, seconds: number, seeded: Awaited<ReturnType<typeof seed>>): Promise<WorkloadReport> {
  const count = async () => (await pool.query<{ count: bigint }>('select count(*) from transfers')).rows[0]!.count;
  const before = await count();
  const totalsBefore = await serverTotals(server.url, workload);
  const apiCpuBefore = processCpuSeconds(server.process.pid!);
  const machineBefore = machineCpu();
  const startedAt = performance.now();
  const sampler = startServerSampler(server.process.pid!, server.url);
  const load = await drive(server.url, workload, seeded, { durationSeconds: seconds, connections: workload === 'batch' ? 4 : connections });
  const samples = await sampler.stop();
  const elapsedSeconds = (performance.now() - startedAt) / 1_000;
  const apiCpuPercentOfOneCore = Math.round(((processCpuSeconds(server.process.pid!) - apiCpuBefore) / elapsedSeconds) * 100);
  const machineAfter = machineCpu();
  const machineBusyPercent = Math.round(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100);
  const transfers = Number((await count()) - before);
  const totalsAfter = await serverTotals(server.url, workload);
  const writes = Math.max(1, totalsAfter.writes - totalsBefore.writes);
  return {
    workload,
    ...load,
    transfersPerSecond: Math.round(transfers / seconds),
    peakRssMb: Math.round(Math.max(...samples.rssMb)),
    rssSamplesMb: samples.rssMb.map(Math.round),
    transfersPerSecondEvery30s: samples.postedEvery30s.slice(1).map((posted, index) => Math.round((posted - samples.postedEvery30s[index]!) / 30)),
    apiCpuPercentOfOneCore,
    machineBusyPercent,
    requestsPerWrite: Math.round(((totalsAfter.requests - totalsBefore.requests) / writes) * 10) / 10,
    writeMs: Math.round(((totalsAfter.seconds - totalsBefore.seconds) / writes) * 10_000) / 10,
    serverP50WithinMs: serverLatencyBoundMs(totalsBefore, totalsAfter, 0.5),
    serverP99WithinMs: serverLatencyBoundMs(totalsBefore, totalsAfter, 0.99),
  };
}

const ratio = (value: number, yardstick: YardstickResult) => Math.round((value / yardstick.transfersPerSecond) * 10) / 10;

async function main(): Promise<void> {
  let embedded: EmbeddedDatabase | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(process.env.DATA_DIR ?? '.data', 'bench'), port: await findFreePort() });
    serverUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query('drop database if exists kassa_bench with (force)');
  await admin.query('create database kassa_bench');
  await admin.end();
  const benchUrl = new URL(serverUrl);
  benchUrl.pathname = '/kassa_bench';
  const pool = createPool({ connectionString: benchUrl.toString(), max: 4 });
  await migrate(pool);
  const { rows: settings } = await pool.query<{ version: string; synchronous_commit: string; fsync: string; shared_buffers: string; shared_buffers_mb: number }>(
    `select version(), current_setting('synchronous_commit') as synchronous_commit, current_setting('fsync') as fsync,
            current_setting('shared_buffers') as shared_buffers,
            (select setting::bigint * 8 / 1024 from pg_settings where name = 'shared_buffers')::int as shared_buffers_mb`,
  );
  if (settings[0]!.shared_buffers_mb < 512) {
    console.log(`note: PostgreSQL shared_buffers is ${settings[0]!.shared_buffers}; throughput falls as the tables outgrow it (README: Benchmark, What limits it)`);
  }

  console.log(`seeding ${walletCount} funded wallets …`);
  const seeded = await seed(pool, jwtSecret, walletCount, 1_000_000_00n);
  await pool.query('analyze'); // as after any bulk load: the planner should know the ledger's size
  const server = await startServer(benchUrl.toString());
  if (warmUpSeconds > 0) {
    // A server that has just started compiles its hot paths and verifies each owner's token for
    // the first time; the first workload measured should not carry that.
    console.log(`warm-up: ${warmUpSeconds}s of uniform, not measured …`);
    await drive(server.url, 'uniform', seeded, { durationSeconds: warmUpSeconds, connections });
  }
  const reports: WorkloadReport[] = [];
  const workloads = (args.soak ? ['uniform'] : args.workloads!.split(',')) as Workload[];
  const seconds = args.soak ? 300 : durationSeconds;
  for (const workload of workloads) {
    console.log(`${workload}: ${seconds}s …`);
    reports.push(await measure(server, pool, workload, seconds, seeded));
  }
  server.process.kill('SIGTERM');
  await new Promise((resolve) => server.process.on('exit', resolve));

  console.log('yardstick: one transaction per transfer …');
  await prepareYardstick(pool, walletCount);
  const yardstick = {
    uniform: await runYardstick(benchUrl.toString(), { hot: false, accounts: walletCount, connections, durationSeconds: Math.min(seconds, 20) }),
    hot: await runYardstick(benchUrl.toString(), { hot: true, accounts: walletCount, connections, durationSeconds: Math.min(seconds, 20) }),
  };

  const verification = await verifyLedger(pool);
  await pool.end();
  await embedded?.stop();

  const result = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    database: { embedded: embedded !== undefined, version: settings[0]!.version.split(' on ')[0], synchronousCommit: settings[0]!.synchronous_commit, fsync: settings[0]!.fsync, sharedBuffers: settings[0]!.shared_buffers },
    options: { durationSeconds: seconds, warmUpSeconds, connections, wallets: walletCount, soak: args.soak },
    workloads: reports.map((report) => ({
      ...report,
      ratioToYardstick: ratio(report.transfersPerSecond, report.workload === 'hot' ? yardstick.hot : yardstick.uniform),
    })),
    yardstick,
    verification: { ok: verification.ok, mismatches: verification.mismatches.length, accountsChecked: verification.accountsChecked },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${args.soak ? 'soak' : 'latest'}.json`, `${JSON.stringify(result, null, 2)}\n`);

  console.log('\nworkload   transfers/s  p50 ms  p99 ms  API p50/p99 ≤ ms  x yardstick  peak RSS MB  API CPU %  machine %  requests/write  write ms  statuses');
  for (const report of result.workloads) {
    console.log(
      `${report.workload.padEnd(10)} ${String(report.transfersPerSecond).padStart(11)}  ${String(report.latencyP50Ms).padStart(6)}  ${String(report.latencyP99Ms).padStart(6)}  ${`${report.serverP50WithinMs ?? '-'}/${report.serverP99WithinMs ?? '-'}`.padStart(16)}  ${String(report.ratioToYardstick).padStart(11)}  ${String(report.peakRssMb).padStart(11)}  ${String(report.apiCpuPercentOfOneCore).padStart(9)}  ${String(report.machineBusyPercent).padStart(9)}  ${String(report.requestsPerWrite).padStart(14)}  ${String(report.writeMs).padStart(8)}  ${JSON.stringify(report.statuses)}${report.errors ? ` errors=${report.errors}` : ''}`,
    );
  }
  console.log(`yardstick (${yardstick.uniform.client}, 1 tx/transfer): uniform ${Math.round(yardstick.uniform.transfersPerSecond)}/s, hot ${Math.round(yardstick.hot.transfersPerSecond)}/s`);
  if (args.soak) {
    const samples = reports[0]!.rssSamplesMb;
    const windows = Array.from({ length: Math.ceil(samples.length / 30) }, (_, index) => samples.slice(index * 30, index * 30 + 30));
    console.log(`API RSS over the soak, ${samples.length} samples a second apart, min–max MB per 30 s: ${windows.map((w) => `${Math.min(...w)}–${Math.max(...w)}`).join(', ')}`);
    console.log(`transfers/s per 30 s: ${reports[0]!.transfersPerSecondEvery30s.join(', ')}`);
  }
  console.log(`ledger verification: ${verification.ok ? 'ok' : 'FAILED'} (${verification.mismatches.length} mismatches, ${verification.accountsChecked} accounts)`);
  if (!verification.ok) process.exitCode = 1;
}

await main();
