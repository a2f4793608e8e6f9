import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Pool } from '../db/pool.ts';
import { KassaError } from '../ledger/errors.ts';
import type { Role } from '../store/users.ts';
import { verifyHs256 } from './jwt.ts';

export const accessTokenLifetimeSeconds = 15 * 60;
export const refreshTokenLifetimeSeconds = 30 * 24 * 60 * 60;
const issuer = 'kassa';
const audience = 'kassa-api';

export interface Caller {
  userId: string;
  role: Role;
  /** When the access token that authenticated this caller expires (a live stream ends then). */
  tokenExpiresAtMs?: number | undefined;
}

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

/** Signs a short-lived access token; `Tokens` issues them, and the benchmark mints them in bulk. */
export function signAccessToken(key: Uint8Array, caller: Caller): Promise<string> {
  return new SignJWT({ role: caller.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(caller.userId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${accessTokenLifetimeSeconds}s`)
    .sign(key);
}

/** Verified access tokens kept, so a client reusing its token is not re-verified on every request. */
export const verifiedTokenCacheMax = 10_000;

export class Tokens {
  readonly #key: Uint8Array<ArrayBuffer>;
  readonly #pool: Pool;
  // Exact token string → caller and expiry. Only tokens that verified are kept; expiry is checked
  // on every hit; the oldest entry goes when the cache is full (a Map iterates in insertion order).
  readonly #verified = new Map<string, { caller: Caller; expiresAtMs: number }>();

  constructor(secret: string, pool: Pool) {
    this.#key = new TextEncoder().encode(secret);
    this.#pool = pool;
  }

  async verifyAccessToken(token: string): Promise<Caller> {
    const cached = this.#verified.get(token);
    if (cached) {
      if (Date.now() < cached.expiresAtMs) return cached.caller;
      this.#verified.delete(token);
    }
    const check = verifyHs256(token, this.#key, { issuer, audience, nowSeconds: Math.floor(Date.now() / 1_000) });
    if (!check.ok) {
      if (check.reason === 'expired') throw new KassaError('token_expired', 'the access token has expired; refresh it');
      throw new KassaError('unauthenticated', 'the access token is not valid');
    }
    const { sub, exp, role } = check.claims;
    if (role !== 'customer' && role !== 'operator' && role !== 'admin') throw new KassaError('unauthenticated', 'the access token is not valid');
    const caller: Caller = { userId: sub, role, tokenExpiresAtMs: exp * 1_000 };
    if (this.#verified.size >= verifiedTokenCacheMax) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, { caller, expiresAtMs: exp * 1_000 });
    return caller;
  }

  /** A new session: a refresh-token family of its own. */
  async issue(caller: Caller): Promise<TokenPair> {
    return this.#issueInFamily(caller, randomUUID());
  }

  /** Spends a refresh token and returns the next pair; a spent token presented again revokes its family. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const tokenHash = sha256(refreshToken);
    const { rows } = await this.#pool.query<{ user_id: string; family_id: string; role: Role }>(
      `update refresh_tokens t set spent_at = now()
         from users u
        where t.token_hash = $1 and t.spent_at is null and t.revoked_at is null and t.expires_at > now() and u.id = t.user_id
        returning t.user_id, t.family_id, u.role`,
      [tokenHash],
    );
    const spent = rows[0];
    if (spent) return this.#issueInFamily({ userId: spent.user_id, role: spent.role }, spent.family_id);

    const { rows: known } = await this.#pool.query<{ family_id: string; spent: boolean; revoked: boolean }>(
      `select family_id, spent_at is not null as spent, revoked_at is not null as revoked from refresh_tokens where token_hash = $1`,
      [tokenHash],
    );
    const token = known[0];
    if (!token) throw new KassaError('unauthenticated', 'the refresh token is not valid');
    if (token.spent && !token.revoked) {
      await this.revokeFamily(token.family_id);
      throw new KassaError('token_revoked', 'this refresh token was already used; the session is revoked, log in again');
    }
    if (token.revoked) throw new KassaError('token_revoked', 'the session was revoked; log in again');
    throw new KassaError('token_expired', 'the refresh token has expired; log in again');
  }

  /** Ends the session the refresh token belongs to. Unknown tokens end nothing and say nothing. */
  async logout(refreshToken: string, userId: string): Promise<void> {
    await this.#pool.query(
      `update refresh_tokens set revoked_at = now()
        where revoked_at is null and family_id = (select family_id from refresh_tokens where token_hash = $1 and user_id = $2)`,
      [sha256(refreshToken), userId],
    );
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.#pool.query(`update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null`, [familyId]);
  }

  async #issueInFamily(caller: Caller, familyId: string): Promise<TokenPair> {
    const accessToken = await signAccessToken(this.#key, caller);
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    await this.#pool.query(
      `insert into refresh_tokens (token_hash, family_id, user_id, expires_at) values ($1, $2, $3, now() + make_interval(secs => $4))`,
      [sha256(refreshToken), familyId, caller.userId, refreshTokenLifetimeSeconds],
    );
    return { access_token: accessToken, token_type: 'Bearer', expires_in: accessTokenLifetimeSeconds, refresh_token: refreshToken };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
