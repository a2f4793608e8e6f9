// The public HTTP API, as a person's browser calls it: bearer tokens, refresh on expiry, and
// every problem+json turned into a sentence.

const messages = {
  invalid_credentials: "That username and password don't match.",
  username_taken: 'That username is taken. Try another one.',
  insufficient_funds: "There isn't enough available money in this wallet for that.",
  user_not_found: "There's no user with that username.",
  wallet_not_found: "That wallet doesn't exist, or isn't yours.",
  transfer_not_found: "That payment doesn't exist, or isn't yours.",
  currency_mismatch: "The recipient doesn't have a wallet in this currency.",
  same_wallet: "You can't send money to the wallet it comes from.",
  wallet_exists: 'You already have a wallet in that currency.',
  currency_not_found: "Kassa doesn't hold that currency.",
  forbidden: "Your role doesn't allow this.",
  unauthenticated: 'Please sign in again.',
  token_expired: 'Your session has ended. Please sign in again.',
  token_revoked: 'Your session has ended. Please sign in again.',
  rate_limited: 'Too many requests just now. Wait a moment and try again.',
  idempotency_key_in_use: 'This payment is already being processed.',
  limit_exceeded: 'That is more than the limit allows.',
  unavailable: 'Kassa is unavailable right now. Nothing was lost; try again in a moment.',
  payload_too_large: 'That is too much to send at once.',
};

export class ApiError extends Error {
  constructor(problem, status) {
    super(describe(problem, status));
    this.code = problem?.code;
    this.status = status;
  }
}

function describe(problem, status) {
  if (problem?.code === 'invalid_amount') return problem.detail ? `That amount isn't valid: ${problem.detail}.` : "That amount isn't valid.";
  if (problem?.code === 'validation_failed') {
    const fields = (problem.errors ?? []).map((error) => `${error.pointer.replace(/^\//, '').replaceAll('_', ' ') || 'input'}: ${error.detail}`);
    return fields.length > 0 ? `Please check ${fields.join('; ')}.` : `Please check your input${problem.detail ? `: ${problem.detail}` : ''}.`;
  }
  if (problem?.code && messages[problem.code]) return messages[problem.code];
  if (status >= 500) return messages.unavailable;
  return problem?.detail ?? problem?.title ?? `Something went wrong (${status}).`;
}

const session = {
  accessToken: null,
  refreshToken: sessionStorage.getItem('kassa.refresh'),
  user: null,
};

export function signedIn() {
  return session.accessToken !== null;
}

export function currentUser() {
  return session.user;
}

export function isOperator() {
  return session.user?.role === 'operator' || session.user?.role === 'admin';
}

export function accessToken() {
  return session.accessToken;
}

function keep(tokens) {
  session.accessToken = tokens.access_token;
  session.refreshToken = tokens.refresh_token;
  sessionStorage.setItem('kassa.refresh', tokens.refresh_token);
}

export function forget() {
  session.accessToken = null;
  session.refreshToken = null;
  session.user = null;
  sessionStorage.removeItem('kassa.refresh');
}

export async function request(method, path, { body, idempotencyKey, retried = false } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session.accessToken) headers.authorization = `Bearer ${session.accessToken}`;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError({ detail: "Can't reach Kassa. Check your connection and try again." }, 0);
  }
  if (response.status === 204) return undefined;
  const payload = await response.json().catch(() => undefined);
  if (response.ok) return payload;
  if (response.status === 401 && payload?.code === 'token_expired' && !retried && (await refresh())) {
    return request(method, path, { body, idempotencyKey, retried: true });
  }
  throw new ApiError(payload, response.status);
}

/** Swaps the refresh token for a new pair; false when the session cannot be resumed. */
export async function refresh() {
  if (!session.refreshToken) return false;
  try {
    const tokens = await fetch('/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refreshToken }),
    }).then((response) => (response.ok ? response.json() : undefined));
    if (!tokens) {
      forget();
      return false;
    }
    keep(tokens);
    session.user = await request('GET', '/v1/me');
    return true;
  } catch {
    return false;
  }
}

export async function logIn(username, password) {
  keep(await request('POST', '/v1/auth/login', { body: { username, password } }));
  session.user = await request('GET', '/v1/me');
}

export async function logOut() {
  const refreshToken = session.refreshToken;
  if (refreshToken) await request('POST', '/v1/auth/logout', { body: { refresh_token: refreshToken } }).catch(() => {});
  forget();
}
