// `npm run cluster`: Kassa as a production deployment runs it, as plain processes on loopback —
// two API instances of the production build behind a round-robin load balancer, sharing one
// PostgreSQL and one Redis. With --walkthrough it runs the README's curl walkthrough through the
// load balancer, prints which instance served how much, stops everything and exits 0 or 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findFreePort } from '../src/db/embedded.ts';
import { startLoadBalancer, type Upstream } from './load-balancer.ts';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const balancerPort = Number(process.env.PORT ?? 8080);
const walkthrough = process.argv.includes('--walkthrough');
const admin = { username: 'admin', password: 'change-me-to-something-long' }; // as in the README

if (!existsSync('dist/main.js')) {
  console.error('cluster: run `npm run build` first (dist/main.js is missing)');
  process.exit(1);
}

const processes: ChildProcess[] = [];
const upstreams: Upstream[] = [];
const jwtSecret = process.env.JWT_SECRET ?? `cluster-${crypto.randomUUID()}-${crypto.randomUUID()}`;

async function startInstance(name: string): Promise<void> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], {
    env: {
      ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_SECRET: jwtSecret,
      PORT: String(port), HOST: '127.0.0.1', TRUST_PROXY: 'true', ADMIN_USERNAME: admin.username, ADMIN_PASSWORD: admin.password,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  processes.push(child);
  for (let attempt = 0; attempt < 150; attempt++) {
    if ((await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.ok) {
      upstreams.push({ name, port, served: 0 });
      return;
    }
    if (child.exitCode !== null) throw new Error(`instance ${name} exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`instance ${name} did not become ready`);
}

/** The README's "Try it with curl" commands, run by bash against the load balancer. */
function readmeWalkthrough(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Try it with curl'));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const commands = blocks.find((block) => block.startsWith('API='));
  if (!commands) throw new Error('README: no curl walkthrough found under "Try it with curl"');
  return commands.replace(/^API=.*$/m, `API=http://127.0.0.1:${balancerPort}`);
}

function runBash(script: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const bash = spawn('bash', ['-euo', 'pipefail', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    bash.stdout.on('data', (chunk) => (output += chunk));
    bash.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

function stop(): void {
  for (const child of processes) child.kill('SIGTERM');
}

try {
  await Promise.all([startInstance('a'), startInstance('b')]);
  const balancer = await startLoadBalancer(upstreams, balancerPort);
  console.log(`cluster: load balancer on http://127.0.0.1:${balancerPort} → instances on ports ${upstreams.map((upstream) => upstream.port).join(', ')}`);
  if (!walkthrough) {
    process.on('SIGINT', () => {
      stop();
      balancer.close();
      process.exit(0);
    });
  } else {
    const { code, output } = await runBash(readmeWalkthrough());
    console.log(output);
    const shares = [...upstreams].sort((x, y) => x.name.localeCompare(y.name)).map((upstream) => `${upstream.name}: ${upstream.served}`).join(', ');
    console.log(`cluster: requests served by instance ${shares}`);
    const paid = output.includes('"balance":"95.50"') && output.includes('"amount":"-4.50"');
    stop();
    balancer.close();
    if (code !== 0 || !paid || upstreams.some((upstream) => upstream.served === 0)) {
      console.error(`cluster: walkthrough failed (bash exit ${code}; payment visible: ${paid}; ${shares})`);
      process.exit(1);
    }
    console.log('cluster: walkthrough passed through the load balancer');
    process.exit(0);
  }
} catch (error) {
  console.error(`cluster: ${(error as Error).message}`);
  stop();
  process.exit(1);
}
