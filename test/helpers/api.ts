import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppDependencies } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { recordContractViolations } from './contract.ts';

export interface TestApi {
  app: FastifyInstance;
  db: TestDatabase;
  config: Config;
  close(): Promise<void>;
}

export const testJwtSecret = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export async function startApi(env: Record<string, string> = {}, deps: Partial<AppDependencies> = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '100000', LOGIN_ATTEMPTS_PER_15_MINUTES: '1000', ...env });
  const app = await buildApp({ config, pool: db.pool, jwtSecret: testJwtSecret, ...deps });
  const contractViolations = recordContractViolations(app);
  await app.ready();
  return {
    app,
    db,
    config,
    async close() {
      await app.close();
      await db.drop();
      // Every response of every API test is checked against /openapi.json.
      if (contractViolations.length > 0) throw new Error(`responses broke the OpenAPI contract:\n${contractViolations.join('\n')}`);
    },
  };
}

export interface Session {
  userId: string;
  walletId: string;
  username: string;
  token: string;
  refreshToken: string;
}

let counter = 0;

/** Registers a user (optionally promoting it) and logs in. */
export async function signUp(api: TestApi, options: { role?: 'operator' | 'admin'; currency?: string; username?: string } = {}): Promise<Session> {
  const username = options.username ?? `user_${process.pid}_${++counter}`;
  const password = 'correct horse battery';
  const registered = await api.app.inject({ method: 'POST', url: '/v1/users', payload: { username, password, name: `Name ${username}`, currency: options.currency } });
  if (registered.statusCode !== 201) throw new Error(`sign-up failed: ${registered.body}`);
  const { user, wallet } = registered.json() as { user: { id: string }; wallet: { id: string } };
  if (options.role) {
    await api.db.pool.query('update users set role = $2 where id = $1', [user.id, options.role]);
  }
  const login = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username, password } });
  const tokens = login.json() as { access_token: string; refresh_token: string };
  return { userId: user.id, walletId: wallet.id, username, token: tokens.access_token, refreshToken: tokens.refresh_token };
}

export function auth(session: Session, idempotencyKey?: string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  return headers;
}

export function key(): string {
  return randomUUID();
}

export async function depositTo(api: TestApi, operator: Session, walletId: string, amount: string, currency = 'USD'): Promise<LightMyRequestResponse> {
  const response = await api.app.inject({ method: 'POST', url: '/v1/deposits', headers: auth(operator, key()), payload: { wallet_id: walletId, amount, currency } });
  if (response.statusCode !== 201) throw new Error(`deposit failed: ${response.body}`);
  return response;
}

/** Two new users; the payer is funded with 100.00 and pays the payee `amount` USD. */
export async function payment(api: TestApi, operator: Session, amount: string): Promise<{ payer: Session; payee: Session; transfer: { id: string; hash: string } }> {
  const payer = await signUp(api);
  const payee = await signUp(api);
  await depositTo(api, operator, payer.walletId, '100');
  const response = await api.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: auth(payer, key()),
    payload: { from_wallet_id: payer.walletId, to_wallet_id: payee.walletId, amount, currency: 'USD' },
  });
  if (response.statusCode !== 201) throw new Error(`payment failed: ${response.body}`);
  return { payer, payee, transfer: response.json() };
}
