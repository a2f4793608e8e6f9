import net from 'node:net';
import type { TestContext } from 'node:test';

/**
 * Whether a real service (Redis, RabbitMQ, NATS) is reachable. Off CI a missing one skips the test
 * that needs it, saying so; in CI (CI=true) it is a failure, never a silent skip.
 */
export async function requireService(t: TestContext, name: string, url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (reachable) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is not reachable at ${url}; CI needs it`);
  t.skip(`${name} is not reachable at ${url}`);
  return false;
}

export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
