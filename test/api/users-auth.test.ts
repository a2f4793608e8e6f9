import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { auth, signUp, startApi, testJwtSecret, type TestApi } from '../helpers/api.ts';
import { hashPassword } from '../../src/services/passwords.ts';
import { upsertAdmin } from '../../src/store/users.ts';

let api: TestApi;
before(async () => {
  api = await startApi({ DEFAULT_CURRENCY: 'EUR' });
});
after(async () => {
  await api.close();
});

const password = 'correct horse battery';

describe('registration', () => {
  test('creates the user and a default wallet together', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { username: 'Dora.Reg', password, name: 'Dora', email: 'dora@example.com', national_id: 'AB123456' },
    });
    assert.equal(response.statusCode, 201);
    const { user, wallet } = response.json();
    assert.equal(user.username, 'Dora.Reg');
    assert.equal(user.role, 'customer');
    assert.equal(wallet.user_id, user.id);
    assert.equal(wallet.currency, 'EUR', 'DEFAULT_CURRENCY applies');
    assert.equal(wallet.balance, '0.00');
    const jpy = await api.app.inject({ method: 'POST', url: '/v1/users', payload: { username: 'yen_user', password, name: 'Yen', currency: 'JPY' } });
    assert.equal(jpy.json().wallet.balance, '0');
  });

  test('usernames are unique regardless of case', async () => {
    await signUp(api, { username: 'Casey' });
    const response = await api.app.inject({ method: 'POST', url: '/v1/users', payload: { username: 'casey', password, name: 'Other' } });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().code, 'username_taken');
  });

  test('rejects weak passwords, bad usernames, unknown currencies and unknown fields, creating nothing', async () => {
    const { rows: before } = await api.db.pool.query<{ count: bigint }>('select count(*) from users');
    const cases: [Record<string, unknown>, number, string][] = [
      [{ username: 'shorty', password: 'short', name: 'S' }, 400, 'validation_failed'],
      [{ username: 'a b', password, name: 'S' }, 400, 'validation_failed'],
      [{ username: 'valid_name', password, name: 'S', currency: 'XXX' }, 404, 'currency_not_found'],
      [{ username: 'valid_name', password, name: 'S', role: 'admin' }, 400, 'validation_failed'],
      [{ username: 'valid_name', password, name: 'S', email: 'not-an-email' }, 400, 'validation_failed'],
    ];
    for (const [payload, status, code] of cases) {
      const response = await api.app.inject({ method: 'POST', url: '/v1/users', payload });
      assert.equal(response.statusCode, status, JSON.stringify(payload));
      assert.equal(response.json().code, code);
    }
    const { rows: afterRows } = await api.db.pool.query<{ count: bigint }>('select count(*) from users');
    assert.equal(afterRows[0]!.count, before[0]!.count);
  });

  test('a role cannot be granted by signing up with it', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/v1/users', payload: { username: 'sneaky', password, name: 'S', role: 'admin' } });
    assert.equal(response.json().errors[0].pointer, '/role');
  });

  test('passwords are stored as Argon2id hashes', async () => {
    const session = await signUp(api);
    const { rows } = await api.db.pool.query<{ password_hash: string }>('select password_hash from users where id = $1', [session.userId]);
    assert.match(rows[0]!.password_hash, /^\$argon2id\$/);
  });
});

describe('login and sessions', () => {
  test('login returns a bearer pair; /v1/me answers with the user', async () => {
    const session = await signUp(api);
    const me = await api.app.inject({ url: '/v1/me', headers: auth(session) });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().id, session.userId);
  });

  test('an unknown user and a wrong password answer exactly alike', async () => {
    const session = await signUp(api);
    const wrong = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: session.username, password: 'wrong password!' } });
    const unknown = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'no_such_user_here', password: 'wrong password!' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    assert.deepEqual(strip(wrong.json()), strip(unknown.json()));
    assert.equal(wrong.json().code, 'invalid_credentials');
  });

  test('refresh rotates the pair; reusing a spent refresh token revokes the whole session', async () => {
    const session = await signUp(api);
    const first = await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: session.refreshToken } });
    assert.equal(first.statusCode, 200);
    const rotated = first.json();
    assert.notEqual(rotated.refresh_token, session.refreshToken);
    const reuse = await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: session.refreshToken } });
    assert.equal(reuse.statusCode, 401);
    assert.equal(reuse.json().code, 'token_revoked');
    const descendant = await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: rotated.refresh_token } });
    assert.equal(descendant.statusCode, 401, 'the stolen family is dead too');
    assert.equal(descendant.json().code, 'token_revoked');
  });

  test('refresh tokens are stored hashed, never as issued', async () => {
    const session = await signUp(api);
    const { rows } = await api.db.pool.query('select 1 from refresh_tokens where token_hash = $1', [session.refreshToken]);
    assert.equal(rows.length, 0);
  });

  test('logout ends the session of its refresh token', async () => {
    const session = await signUp(api);
    const logout = await api.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: auth(session), payload: { refresh_token: session.refreshToken } });
    assert.equal(logout.statusCode, 204);
    const refresh = await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: session.refreshToken } });
    assert.equal(refresh.json().code, 'token_revoked');
  });

  test('an unknown or expired refresh token is refused', async () => {
    const unknown = await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: 'rt_nope' } });
    assert.equal(unknown.json().code, 'unauthenticated');
    const session = await signUp(api);
    await api.db.pool.query(`update refresh_tokens set expires_at = now() - interval '1 second' where user_id = $1`, [session.userId]);
    const expired = await api.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: session.refreshToken } });
    assert.equal(expired.json().code, 'token_expired');
  });
});

describe('access tokens under attack', () => {
  const key = new TextEncoder().encode(testJwtSecret);
  const sign = (claims: Record<string, unknown>, expires = '5m', secret = key) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('kassa').setAudience('kassa-api').setIssuedAt().setExpirationTime(expires).sign(secret);

  async function meWith(token: string) {
    return api.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
  }

  test('alg none, a wrong signature and a tampered role claim are all unauthenticated', async () => {
    const session = await signUp(api);
    const [header, payload] = session.token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${session.token.split('.')[2]}`;
    const wrongKey = await sign({ sub: session.userId, role: 'admin' }, '5m', new TextEncoder().encode('another-secret-another-secret-another-secret'));
    for (const token of [none, tampered, wrongKey, 'garbage']) {
      const response = await meWith(token);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().code, 'unauthenticated');
    }
  });

  test('an expired access token says so', async () => {
    const session = await signUp(api);
    const expired = await sign({ sub: session.userId, role: 'customer' }, '-10s');
    const response = await meWith(expired);
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().code, 'token_expired');
  });

  test('a malformed Authorization header is refused, not ignored', async () => {
    const response = await api.app.inject({ url: '/v1/currencies', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(response.statusCode, 401);
  });
});

describe('administration', () => {
  test('ADMIN_USERNAME/ADMIN_PASSWORD create the admin, and a restart resets its password', async () => {
    await upsertAdmin(api.db.pool, 'boss', await hashPassword('first admin password'), 'USD');
    await upsertAdmin(api.db.pool, 'boss', await hashPassword('second admin password'), 'USD');
    const old = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'boss', password: 'first admin password' } });
    assert.equal(old.statusCode, 401);
    const login = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'boss', password: 'second admin password' } });
    assert.equal(login.statusCode, 200);
    const me = await api.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${login.json().access_token}` } });
    assert.equal(me.json().role, 'admin');
  });

  test('an admin promotes a user to operator; nobody else can', async () => {
    const admin = await signUp(api, { role: 'admin' });
    const operator = await signUp(api, { role: 'operator' });
    const user = await signUp(api);
    const denied = await api.app.inject({ method: 'PATCH', url: `/v1/users/${user.userId}`, headers: auth(operator), payload: { role: 'operator' } });
    assert.equal(denied.statusCode, 403);
    const granted = await api.app.inject({ method: 'PATCH', url: `/v1/users/${user.userId}`, headers: auth(admin), payload: { role: 'operator' } });
    assert.equal(granted.statusCode, 200);
    assert.equal(granted.json().role, 'operator');
    const missing = await api.app.inject({ method: 'PATCH', url: '/v1/users/00000000-0000-4000-8000-000000000000', headers: auth(admin), payload: { role: 'operator' } });
    assert.equal(missing.json().code, 'user_not_found');
  });
});
