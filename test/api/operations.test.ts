import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { auth, signUp, startApi } from '../helpers/api.ts';
import { redisUrl, requireService } from '../helpers/services.ts';

describe('rate limits', () => {
  test('each signed-in user and each anonymous address has its own budget, answered with 429 problem+json', async () => {
    const api = await startApi({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const alice = await signUp(api);
      const bob = await signUp(api);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await api.app.inject({ url: '/v1/me', headers: auth(alice) })).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const limited = await api.app.inject({ url: '/v1/me', headers: auth(alice) });
      assert.equal(limited.json().code, 'rate_limited');
      assert.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal(limited.headers['ratelimit-limit'], '3');
      assert.equal(limited.headers['ratelimit-remaining'], '0');
      assert.equal((await api.app.inject({ url: '/v1/me', headers: auth(bob) })).statusCode, 200, 'another user is not affected');
      const fromAddress = (remoteAddress: string) => api.app.inject({ url: '/v1/currencies', remoteAddress });
      for (let i = 0; i < 3; i++) await fromAddress('10.1.1.1');
      assert.equal((await fromAddress('10.1.1.1')).statusCode, 429);
      assert.equal((await fromAddress('10.2.2.2')).statusCode, 200);
    } finally {
      await api.close();
    }
  });

  test('login attempts are limited per address and username (brute force)', async () => {
    const api = await startApi({ LOGIN_ATTEMPTS_PER_15_MINUTES: '3' });
    try {
      await api.app.inject({ method: 'POST', url: '/v1/users', payload: { username: 'victim', password: 'the real password', name: 'V' } });
      const attempt = () => api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'victim', password: 'guess guess guess' } });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await attempt()).statusCode);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
    } finally {
      await api.close();
    }
  });

  test('with REDIS_URL, instances share the budget', async (t) => {
    if (!(await requireService(t, 'Redis', redisUrl))) return;
    const redisA = new Redis(redisUrl);
    const redisB = new Redis(redisUrl);
    const first = await startApi({ RATE_LIMIT_PER_MINUTE: '4' }, { redis: redisA });
    const second = await startApi({ RATE_LIMIT_PER_MINUTE: '4' }, { redis: redisB });
    try {
      const address = `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const statuses = [];
      for (const api of [first, second, first, second, first]) {
        statuses.push((await api.app.inject({ url: '/v1/currencies', remoteAddress: address })).statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
    } finally {
      await first.close();
      await second.close();
      redisA.disconnect();
      redisB.disconnect();
    }
  });
});

describe('hardening', () => {
  test('security headers, request ids and CORS from CORS_ORIGINS', async () => {
    const api = await startApi({ CORS_ORIGINS: 'https://app.example.com' });
    try {
      const response = await api.app.inject({ url: '/v1/currencies', headers: { origin: 'https://app.example.com', 'x-request-id': 'client-trace-123' } });
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.ok(response.headers['strict-transport-security']);
      assert.equal(response.headers['x-request-id'], 'client-trace-123');
      assert.equal(response.headers['access-control-allow-origin'], 'https://app.example.com');
      const other = await api.app.inject({ url: '/v1/currencies', headers: { origin: 'https://evil.example.com', 'x-request-id': 'bad id with spaces\r\n' } });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      assert.match(String(other.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'an unsafe incoming id is replaced');
    } finally {
      await api.close();
    }
  });

  test('every answer carries the security headers; without CORS_ORIGINS there is no CORS and preflights are 404s', async () => {
    const api = await startApi();
    try {
      const expected = {
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'origin-agent-cluster': '?1',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-frame-options': 'SAMEORIGIN',
        'x-permitted-cross-domain-policies': 'none',
        'x-xss-protection': '0',
      };
      const answers = [
        await api.app.inject({ url: '/v1/currencies', headers: { origin: 'https://app.example.com' } }),
        await api.app.inject({ url: '/v1/me' }),
        await api.app.inject({ url: '/v2/anything' }),
        await api.app.inject({ method: 'OPTIONS', url: '/v1/transfers', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } }),
      ];
      assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 401, 404, 404]);
      for (const answer of answers) {
        for (const [name, value] of Object.entries(expected)) assert.equal(answer.headers[name], value, `${name} on a ${answer.statusCode}`);
        assert.deepEqual(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-')), []);
      }
      assert.equal(answers[3]!.json().code, 'not_found');
    } finally {
      await api.close();
    }
  });

  test('unknown routes are problem+json 404s', async () => {
    const api = await startApi();
    try {
      const response = await api.app.inject({ url: '/v2/anything' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().code, 'not_found');
    } finally {
      await api.close();
    }
  });

  test('when the database is gone: /ready is 503, requests get a problem without internals, logs keep the cause', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const api = await startApi({}, { logger: { level: 'info', stream } });
    const alice = await signUp(api);
    await api.db.pool.end();
    const ready = await api.app.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.database.status, 'down');
    const me = await api.app.inject({ url: '/v1/me', headers: auth(alice) });
    assert.equal(me.statusCode, 500);
    const body = me.json();
    assert.equal(body.code, 'internal_error');
    assert.doesNotMatch(me.body, /pool|stack|at \w+ \(/i, 'no internals in a 5xx');
    assert.ok(lines.some((line) => line.includes(body.request_id) && line.includes('Cannot use a pool after calling end')), 'the cause is logged with the request id');
    await api.app.close();
    await api.db.drop();
  });

  test('logs never contain passwords, tokens or national ids', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const api = await startApi({}, { logger: { level: 'trace', stream } });
    try {
      await api.app.inject({ method: 'POST', url: '/v1/users', payload: { username: 'logged_user', password: 'super secret password', name: 'L', national_id: 'NID-99887766' } });
      const login = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'logged_user', password: 'super secret password' } });
      const { access_token: accessToken, refresh_token: refreshToken } = login.json();
      await api.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${accessToken}` } });
      await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: refreshToken } });
      const log = lines.join('');
      assert.ok(log.length > 0);
      for (const secret of ['super secret password', 'NID-99887766', accessToken, refreshToken]) assert.ok(!log.includes(secret), `log leaks ${secret.slice(0, 12)}`);
    } finally {
      await api.close();
    }
  });

  test('/metrics reports request latency by route, transfer outcomes, coalesced writes and pool usage', async () => {
    const api = await startApi();
    try {
      const alice = await signUp(api);
      await api.app.inject({ url: '/v1/me', headers: auth(alice) });
      await api.app.inject({ method: 'POST', url: '/v1/transfers', headers: auth(alice, 'metrics-1'), payload: { from_wallet_id: alice.walletId, to_wallet_id: alice.walletId, amount: '1', currency: 'USD' } });
      const metrics = await api.app.inject({ url: '/metrics' });
      assert.match(metrics.body, /kassa_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/me"[^}]*status="200"/);
      assert.match(metrics.body, /kassa_transfers_total\{outcome="same_wallet"\} 1/);
      assert.match(metrics.body, /kassa_ledger_batch_requests_sum 1\n/, 'one write, of one request');
      assert.match(metrics.body, /kassa_ledger_batch_requests_count 1\n/);
      assert.match(metrics.body, /kassa_ledger_write_duration_seconds_count 1\n/);
      assert.match(metrics.body, /kassa_db_pool_connections \d+/);
    } finally {
      await api.close();
    }
  });
});
