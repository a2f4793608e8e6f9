// Drives POST /v1/transfers (and the batch endpoint) with autocannon; every request carries its
// own idempotency key and the access token of the wallet's owner.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import type { Party, Seeded } from './seed.ts';

export interface LoadResult {
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function transferBody(from: Party, to: Party): string {
  return JSON.stringify({ from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: '0.01', currency: 'USD' });
}

export type Workload = 'uniform' | 'hot' | 'batch';

/** The endpoint a workload drives, and the status a successful request answers. */
export function workloadEndpoint(workload: Workload): { path: string; status: number } {
  return workload === 'batch' ? { path: '/v1/transfers/batch', status: 200 } : { path: '/v1/transfers', status: 201 };
}

export async function drive(url: string, workload: Workload, seeded: Seeded, options: { durationSeconds: number; connections: number }): Promise<LoadResult> {
  const hot = seeded.wallets.slice(0, 2);
  const { path } = workloadEndpoint(workload);
  const setupRequest = (request: autocannon.Request): autocannon.Request => {
    if (workload === 'batch') {
      const transfers = Array.from({ length: 1_000 }, () => {
        const from = pick(seeded.wallets);
        let to = pick(seeded.wallets);
        while (to === from) to = pick(seeded.wallets);
        return { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: '0.01', currency: 'USD' };
      });
      request.path = path;
      request.headers = { 'content-type': 'application/json', authorization: `Bearer ${seeded.operator.token}`, 'idempotency-key': randomUUID() };
      request.body = JSON.stringify({ transfers });
      return request;
    }
    let from: Party;
    let to: Party;
    if (workload === 'hot') {
      [from, to] = Math.random() < 0.5 ? [hot[0]!, hot[1]!] : [hot[1]!, hot[0]!];
    } else {
      from = pick(seeded.wallets);
      to = pick(seeded.wallets);
      while (to === from) to = pick(seeded.wallets);
    }
    request.path = path;
    request.headers = { 'content-type': 'application/json', authorization: `Bearer ${from.token}`, 'idempotency-key': randomUUID() };
    request.body = transferBody(from, to);
    return request;
  };
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 30,
    requests: [{ method: 'POST', setupRequest }],
  });
  const statuses: Record<string, number> = {};
  for (const [status, stats] of Object.entries((result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) {
    statuses[status] = stats.count;
  }
  return {
    requests: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
