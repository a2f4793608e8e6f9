// The Kassa console: a person's view of their wallets, and an operator's view of the ledger,
// built only on the public API. Hash routes; no framework.
import { ApiError, currentUser, isOperator, logIn, logOut, refresh, request, signedIn } from './api.js';
import { announce, field, fill, form, h, show } from './dom.js';
import { followEvents } from './events.js';
import { amountProblem, formatMoney } from './money.js';

let currencies = new Map();
let stopEvents;
const eventListeners = new Set();
let navigation = 0; // counts route changes: a view still loading when the reader moves on must not draw

/**
 * Taken when a view starts loading: whether the reader is still on the page it was started for.
 * A view that was still waiting for the API when the reader navigated elsewhere must neither draw
 * nor start live updates (they would draw it over the page the reader went to).
 */
function stillHere() {
  const startedAt = navigation;
  return () => startedAt === navigation;
}

/** Taken when a view starts loading: draws its content, unless the reader has moved on, and says whether it did. */
function viewDrawer() {
  const here = stillHere();
  return (...children) => {
    if (!here()) return false;
    show(...children);
    return true;
  };
}

function money(amount, code) {
  return formatMoney(amount, code, currencies.get(code)?.kind ?? 'fiat');
}

function scaleOf(code) {
  return currencies.get(code)?.scale ?? 2;
}

function dateTime(text) {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(text));
}

function newKey() {
  return crypto.randomUUID();
}

// ---- navigation -------------------------------------------------------------------------------

function renderNav() {
  const nav = document.getElementById('nav');
  if (!signedIn()) {
    fill(nav, h('a', { href: '#/login' }, 'Sign in'), h('a', { href: '#/signup' }, 'Create account'));
    return;
  }
  fill(nav,
    h('a', { href: '#/' }, 'Wallets'),
    h('a', { href: '#/send' }, 'Send money'),
    isOperator() && h('a', { href: '#/operator' }, 'Operator'),
    h('span', { class: 'who' }, currentUser().username),
    h('button', { type: 'button', class: 'link', onclick: async () => {
      await logOut();
      stopEvents?.();
      location.hash = '#/login';
      route();
    } }, 'Sign out'),
  );
}

const routes = [
  [/^#\/login$/, loginView, false],
  [/^#\/signup$/, signupView, false],
  [/^#\/?$/, walletsView, true],
  [/^#\/wallets\/([0-9a-f-]{36})$/, walletView, true],
  [/^#\/send(?:\?from=([0-9a-f-]{36}))?$/, sendView, true],
  [/^#\/operator$/, operatorView, true],
];

async function route() {
  navigation++;
  const here = stillHere();
  eventListeners.clear();
  renderNav();
  const hash = location.hash || '#/';
  for (const [pattern, view, needsSession] of routes) {
    const match = pattern.exec(hash);
    if (!match) continue;
    if (needsSession && !signedIn()) {
      location.hash = '#/login';
      return;
    }
    try {
      await view(...match.slice(1));
    } catch (error) {
      if (here()) show(h('h1', { tabindex: -1 }, 'Something went wrong'), h('p', { class: 'error' }, error.message));
    }
    return;
  }
  show(h('h1', { tabindex: -1 }, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your wallets')));
}

function startEvents() {
  stopEvents?.();
  stopEvents = followEvents((event) => eventListeners.forEach((listener) => listener(event)));
}

async function afterSignIn() {
  renderNav();
  startEvents();
  location.hash = '#/';
}

// ---- sign in / sign up ------------------------------------------------------------------------

function loginView() {
  show(
    h('h1', { tabindex: -1 }, 'Sign in'),
    form({ class: 'card', 'aria-label': 'Sign in' }, [
      field('Username', h('input', { name: 'username', autocomplete: 'username', required: true })),
      field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
      h('button', { type: 'submit' }, 'Sign in'),
    ], async (data) => {
      await logIn(String(data.get('username')), String(data.get('password')));
      await afterSignIn();
    }),
    h('p', {}, 'New here? ', h('a', { href: '#/signup' }, 'Create an account')),
  );
}

function signupView() {
  const currencySelect = h('select', { name: 'currency' },
    [...currencies.values()].map((currency) => h('option', { value: currency.code, selected: currency.code === 'USD' }, `${currency.code} — ${currency.name}`)));
  show(
    h('h1', { tabindex: -1 }, 'Create your account'),
    form({ class: 'card', 'aria-label': 'Create account' }, [
      field('Username', h('input', { name: 'username', autocomplete: 'username', required: true, minlength: 3 }), 'Letters, digits, dots, dashes and underscores.'),
      field('Full name', h('input', { name: 'name', autocomplete: 'name', required: true })),
      field('Email (optional)', h('input', { name: 'email', type: 'email', autocomplete: 'email' })),
      field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10 }), 'At least 10 characters.'),
      field('First wallet currency', currencySelect),
      h('button', { type: 'submit' }, 'Create account'),
    ], async (data) => {
      const body = { username: String(data.get('username')).trim(), name: String(data.get('name')).trim(), password: String(data.get('password')), currency: String(data.get('currency')) };
      const email = String(data.get('email') ?? '').trim();
      if (email) body.email = email;
      await request('POST', '/v1/users', { body });
      await logIn(body.username, body.password);
      announce('Welcome to Kassa. Your wallet is ready.');
      await afterSignIn();
    }),
  );
}

// ---- wallets ----------------------------------------------------------------------------------

function balances(wallet) {
  return h('dl', { class: 'balances' },
    h('div', {}, h('dt', {}, 'Available'), h('dd', { class: 'available', 'data-testid': 'available' }, money(wallet.available, wallet.currency))),
    h('div', {}, h('dt', {}, 'Balance'), h('dd', {}, money(wallet.balance, wallet.currency))),
    h('div', {}, h('dt', {}, 'On hold (out)'), h('dd', {}, money(wallet.pending_out, wallet.currency))),
    h('div', {}, h('dt', {}, 'Incoming (held)'), h('dd', {}, money(wallet.pending_in, wallet.currency))));
}

async function walletsView() {
  const draw = viewDrawer();
  const { data: wallets } = await request('GET', '/v1/wallets?limit=100');
  const list = h('ul', { class: 'wallets' }, wallets.map((wallet) => h('li', { class: 'card wallet' },
    h('h2', {}, h('a', { href: `#/wallets/${wallet.id}` }, `${wallet.currency} wallet`)),
    balances(wallet),
    h('p', { class: 'actions' }, h('a', { class: 'button', href: `#/send?from=${wallet.id}` }, 'Send'), h('a', { href: `#/wallets/${wallet.id}` }, 'History')))));
  const held = new Set(wallets.map((wallet) => wallet.currency));
  const open = form({ class: 'inline', 'aria-label': 'Open a wallet' }, [
    field('Open a wallet in', h('select', { name: 'currency' }, [...currencies.values()].filter((currency) => !held.has(currency.code))
      .map((currency) => h('option', { value: currency.code }, `${currency.code} — ${currency.name}`)))),
    h('button', { type: 'submit' }, 'Open wallet'),
  ], async (data) => {
    await request('POST', '/v1/wallets', { body: { currency: String(data.get('currency')) } });
    announce('Wallet opened.');
    await walletsView();
  });
  if (!draw(h('h1', { tabindex: -1 }, 'Your wallets'), list, held.size < currencies.size && open)) return;
  eventListeners.add(refreshWallets); // one function, so redrawing does not add another listener each time
}

function refreshWallets() {
  void walletsView().catch(() => {});
}

function entryRow(entry, currency) {
  const negative = entry.amount.startsWith('-');
  return h('tr', {},
    h('td', {}, dateTime(entry.created_at)),
    h('td', { class: negative ? 'out' : 'in' }, negative ? `− ${money(entry.amount.slice(1), currency)}` : `+ ${money(entry.amount, currency)}`),
    h('td', {}, money(entry.balance_after, currency)),
    h('td', { class: 'muted' }, h('span', { class: 'id' }, entry.transfer_id.slice(0, 8))));
}

async function walletView(walletId) {
  const draw = viewDrawer();
  const wallet = await request('GET', `/v1/wallets/${walletId}`);
  const rows = h('tbody', {});
  const sentinel = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading history…');
  let cursor;
  let loading = false;
  let done = false;
  async function loadMore() {
    if (loading || done) return;
    loading = true;
    try {
      const page = await request('GET', `/v1/wallets/${walletId}/entries?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      rows.append(...page.data.map((entry) => entryRow(entry, wallet.currency)));
      cursor = page.next_cursor;
      done = cursor === null;
      sentinel.textContent = done ? (rows.children.length === 0 ? 'No movements yet.' : 'That is everything.') : 'Loading more…';
    } finally {
      loading = false;
    }
    if (!done && sentinel.getBoundingClientRect().top < innerHeight) void loadMore();
  }
  const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && loadMore());
  const summary = h('section', { class: 'card', 'aria-label': 'Balances' }, balances(wallet));
  const drawn = draw(
    h('h1', { tabindex: -1 }, `${wallet.currency} wallet`),
    summary,
    h('p', { class: 'actions' },
      h('a', { class: 'button', href: `#/send?from=${walletId}` }, 'Send money'),
      withdrawForm(wallet),
      isOperator() && depositForm(walletId, wallet.currency)),
    h('h2', {}, 'History'),
    h('table', { class: 'history' }, h('caption', { class: 'visually-hidden' }, 'Movements, newest first'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Amount'), h('th', { scope: 'col' }, 'Balance after'), h('th', { scope: 'col' }, 'Transfer'))),
      rows),
    sentinel,
  );
  if (!drawn) return;
  observer.observe(sentinel);
  // Live: a new movement on this wallet refreshes the balances and the top of the history.
  eventListeners.add(async (event) => {
    if (!event.wallet_ids.includes(walletId)) return;
    const fresh = await request('GET', `/v1/wallets/${walletId}`);
    summary.replaceChildren(balances(fresh));
    const page = await request('GET', `/v1/wallets/${walletId}/entries?limit=20`);
    const shown = new Set([...rows.querySelectorAll('.id')].map((cell) => cell.textContent));
    const added = page.data.filter((entry) => !shown.has(entry.transfer_id.slice(0, 8)));
    rows.prepend(...added.map((entry) => entryRow(entry, wallet.currency)));
    if (added.length > 0 && done && sentinel.textContent === 'No movements yet.') sentinel.textContent = 'That is everything.';
    const mine = wallet.user_id === currentUser()?.id; // an operator looking at someone's wallet received nothing
    if (mine && event.data.to_wallet_id === walletId && event.type.endsWith('.created') && event.data.status === 'posted') {
      announce(`Received ${money(event.data.amount, wallet.currency)}.`);
    }
  });
}

function withdrawForm(wallet) {
  return form({ class: 'inline', 'aria-label': 'Withdraw' }, [
    field('Withdraw', h('input', { name: 'amount', inputmode: 'decimal', placeholder: '0.00', size: 8 })),
    h('button', { type: 'submit' }, 'Withdraw'),
  ], async (data) => {
    const amount = String(data.get('amount')).trim();
    const problem = amountProblem(amount, scaleOf(wallet.currency));
    if (problem) throw new Error(problem);
    await request('POST', '/v1/withdrawals', { body: { wallet_id: wallet.id, amount, currency: wallet.currency }, idempotencyKey: newKey() });
    announce(`Withdrew ${money(amount, wallet.currency)}.`);
  });
}

function depositForm(walletId, currency) {
  return form({ class: 'inline', 'aria-label': 'Deposit' }, [
    field(`Deposit (${currency})`, h('input', { name: 'amount', inputmode: 'decimal', placeholder: '0.00', size: 8 })),
    h('button', { type: 'submit' }, 'Deposit'),
  ], async (data) => {
    const amount = String(data.get('amount')).trim();
    const problem = amountProblem(amount, scaleOf(currency));
    if (problem) throw new Error(problem);
    await request('POST', '/v1/deposits', { body: { wallet_id: walletId, amount, currency }, idempotencyKey: newKey() });
    announce(`Deposited ${money(amount, currency)}.`);
  });
}

// ---- send money -------------------------------------------------------------------------------

async function sendView(fromId) {
  const draw = viewDrawer();
  const { data: wallets } = await request('GET', '/v1/wallets?limit=100');
  if (wallets.length === 0) return draw(h('h1', { tabindex: -1 }, 'Send money'), h('p', {}, 'Open a wallet first.'));
  const from = h('select', { name: 'from' }, wallets.map((wallet) => h('option', { value: wallet.id, selected: wallet.id === fromId },
    `${wallet.currency} — ${money(wallet.available, wallet.currency)} available`)));
  const review = h('section', { class: 'card confirm', hidden: true, 'aria-live': 'assertive' });
  const entry = form({ class: 'card', 'aria-label': 'Send money' }, [
    field('From', from),
    field('To (username)', h('input', { name: 'to', autocomplete: 'off', required: true })),
    field('Amount', h('input', { name: 'amount', inputmode: 'decimal', placeholder: '0.00', required: true })),
    field('Note (optional)', h('input', { name: 'description', maxlength: 200 })),
    h('button', { type: 'submit' }, 'Review'),
  ], async (data) => {
    const wallet = wallets.find((candidate) => candidate.id === data.get('from'));
    const amount = String(data.get('amount')).trim();
    const to = String(data.get('to')).trim();
    const problem = amountProblem(amount, scaleOf(wallet.currency));
    if (problem) throw new Error(problem);
    if (!to) throw new Error("Enter the recipient's username.");
    const description = String(data.get('description') ?? '').trim();
    // One key per confirmation: pressing Confirm again after a network error can never pay twice.
    const idempotencyKey = newKey();
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const confirm = h('button', { type: 'button', onclick: async () => {
      confirm.disabled = true;
      error.hidden = true;
      try {
        const body = { from_wallet_id: wallet.id, to_username: to, amount, currency: wallet.currency };
        if (description) body.description = description;
        await request('POST', '/v1/transfers', { body, idempotencyKey });
        announce(`Sent ${money(amount, wallet.currency)} to ${to}.`, 'success');
        location.hash = `#/wallets/${wallet.id}`;
      } catch (caught) {
        error.textContent = caught.message;
        error.hidden = false;
        confirm.disabled = false;
      }
    } }, 'Confirm and send');
    review.replaceChildren(
      h('h2', {}, 'Check the payment'),
      h('p', { class: 'big' }, `Send ${money(amount, wallet.currency)} to ${to}`),
      h('p', {}, `From your ${wallet.currency} wallet (${money(wallet.available, wallet.currency)} available).`, description ? ` Note: “${description}”.` : ''),
      h('p', { class: 'actions' }, confirm, h('button', { type: 'button', class: 'secondary', onclick: () => {
        review.hidden = true;
        entry.hidden = false;
      } }, 'Change')),
      error,
    );
    entry.hidden = true;
    review.hidden = false;
    confirm.focus();
  });
  draw(h('h1', { tabindex: -1 }, 'Send money'), entry, review);
}

// ---- operator ---------------------------------------------------------------------------------

async function operatorView() {
  if (!isOperator()) return show(h('h1', { tabindex: -1 }, 'Operator'), h('p', { class: 'error' }, "Your role doesn't allow this."));
  const verification = h('section', { class: 'card', 'aria-label': 'Ledger verification', 'aria-busy': 'true' }, h('p', {}, 'Verifying the ledger…'));
  const events = h('section', { class: 'card', 'aria-label': 'Events and webhooks' });
  const recent = h('tbody', {});
  show(
    h('h1', { tabindex: -1 }, 'Operator'),
    h('h2', {}, 'Ledger'), verification,
    h('h2', {}, 'Events and webhooks'), events,
    h('h2', {}, 'Recent transfers'),
    h('table', { class: 'history' }, h('thead', {}, h('tr', {}, ['When', 'Kind', 'Status', 'Amount', 'From', 'To'].map((title) => h('th', { scope: 'col' }, title)))), recent),
  );
  const loadRecent = async () => {
    const { data } = await request('GET', '/v1/transfers?limit=20');
    recent.replaceChildren(...data.map((transfer) => h('tr', {},
      h('td', {}, dateTime(transfer.created_at)), h('td', {}, transfer.kind), h('td', {}, transfer.status),
      h('td', {}, money(transfer.amount, transfer.currency)),
      h('td', { class: 'id' }, transfer.from_wallet_id?.slice(0, 8) ?? 'outside'), h('td', { class: 'id' }, transfer.to_wallet_id?.slice(0, 8) ?? 'outside'))));
  };
  const loadEvents = async () => {
    const status = await request('GET', '/v1/events/status');
    fill(events, h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Events'), h('dd', {}, `${status.last_sequence} in order${status.unsequenced ? `, ${status.unsequenced} being ordered` : ''}`)),
      h('div', {}, h('dt', {}, 'Broker'), h('dd', {}, status.broker ?? 'none configured')),
      status.consumers.map((consumer) => h('div', {}, h('dt', {}, `Lag: ${consumer.name}`), h('dd', { class: consumer.lag_seconds > 60 ? 'warn' : '' }, `${consumer.lag_seconds.toFixed(1)} s`))),
      h('div', {}, h('dt', {}, 'Webhooks'), h('dd', {}, `${status.webhooks.enabled} enabled, ${status.webhooks.disabled} disabled`)),
      h('div', {}, h('dt', {}, 'Waiting deliveries'), h('dd', {}, String(status.webhooks.pending_messages))),
      h('div', {}, h('dt', {}, 'Failed attempts (1 h)'), h('dd', { class: status.webhooks.failed_attempts_last_hour ? 'warn' : '' }, String(status.webhooks.failed_attempts_last_hour)))));
  };
  const verify = async () => {
    verification.setAttribute('aria-busy', 'true');
    const result = await request('GET', '/v1/ledger/verify');
    verification.removeAttribute('aria-busy');
    fill(verification,
      h('p', { class: result.ok ? 'ok big' : 'error big', 'data-testid': 'verification' }, result.ok ? 'Verified: every cent accounted for.' : `${result.mismatches.length} problems found`),
      h('p', { class: 'muted' }, `${result.accounts_checked} accounts, ${result.chain.entries_checked} entries and ${result.chain.checkpoints_checked} signed checkpoints checked at ${dateTime(result.checked_at)}. `,
        result.currencies.map((currency) => `${currency.code} sums to ${currency.total}`).join(', ')),
      result.mismatches.length > 0 && h('ul', {}, result.mismatches.slice(0, 20).map((mismatch) => h('li', {}, `${mismatch.kind}: ${mismatch.detail}`))),
      h('button', { type: 'button', class: 'secondary', onclick: () => void verify() }, 'Verify again'));
  };
  const here = stillHere();
  await Promise.all([verify(), loadEvents(), loadRecent()]);
  if (!here()) return;
  eventListeners.add(() => void Promise.all([loadRecent(), loadEvents()]).catch(() => {}));
}

// ---- start ------------------------------------------------------------------------------------

async function start() {
  try {
    const { data } = await request('GET', '/v1/currencies');
    currencies = new Map(data.map((currency) => [currency.code, currency]));
  } catch (error) {
    announce(error instanceof ApiError ? error.message : 'Kassa is unavailable right now.', 'error');
  }
  if (await refresh()) startEvents();
  addEventListener('hashchange', () => void route());
  await route();
}

void start();
