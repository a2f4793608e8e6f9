// Opt-in tracing and error tracking: spans for HTTP, PostgreSQL and broker publishes, tied to the
// request id and to a caller's trace; Sentry events for 5xx answers. Neither carries a secret.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Publisher } from '../src/events/publisher.ts';
import { scrubEvent, startErrorTracking } from '../src/observability/errorTracking.ts';
import { startTracing } from '../src/observability/tracing.ts';
import { auth, key, signUp, startApi, testJwtSecret, type TestApi } from './helpers/api.ts';
import { waitFor } from './helpers/wait.ts';

const apis: TestApi[] = [];
after(async () => {
  for (const api of apis) await api.close();
});

test('traces: a span per request with its request id, its queries as children, and broker publishes — no secrets', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ exporter, serviceName: 'kassa-test' });
  const published: number[] = [];
  const publisher: Publisher = { name: 'test', publish: async (events) => void published.push(events.length), check: async () => {}, close: async () => {} };
  const api = await startApi({}, { tracer: tracing.tracer, publisher, relayEvents: true });
  apis.push(api);
  const operator = await signUp(api, { role: 'operator' });
  const payer = await signUp(api);
  const registered = await api.app.inject({
    method: 'POST', url: '/v1/users',
    payload: { username: 'traced_user', password: 'a traced secret password', name: 'T', national_id: 'NAT-ID-998877', email: 'traced@example.com' },
  });
  assert.equal(registered.statusCode, 201);
  await api.app.inject({ method: 'POST', url: '/v1/deposits', headers: auth(operator, key()), payload: { wallet_id: payer.walletId, amount: '10.00', currency: 'USD' } });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const transfer = await api.app.inject({
    method: 'POST', url: '/v1/transfers',
    headers: { ...auth(payer, key()), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    payload: { from_wallet_id: payer.walletId, to_username: 'traced_user', amount: '1.00', currency: 'USD' },
  });
  assert.equal(transfer.statusCode, 201);
  await waitFor('a broker publish', async () => (exporter.getFinishedSpans().some((span) => span.name === 'publish kassa.events') ? true : undefined));

  const spans = exporter.getFinishedSpans();
  const request = spans.find((span) => span.name === 'POST /v1/transfers');
  assert.ok(request, 'the HTTP span is named by route');
  assert.equal(request.attributes['kassa.request_id'], transfer.headers['x-request-id']);
  assert.equal(request.attributes['http.response.status_code'], 201);
  assert.equal(request.spanContext().traceId, traceId, "the caller's trace continues");
  const queries = spans.filter((span) => span.parentSpanContext?.spanId === request.spanContext().spanId && span.name.startsWith('pg '));
  assert.ok(queries.some((span) => String(span.attributes['db.query.text']).includes('kassa_post_transfers')), 'the ledger write is a child span');
  assert.ok(published.length > 0);

  const everything = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, resource: span.resource.attributes })));
  for (const secret of ['a traced secret password', 'NAT-ID-998877', 'traced@example.com', payer.token, payer.refreshToken, testJwtSecret, 'correct horse battery']) {
    assert.equal(everything.includes(secret), false, `a span leaked ${secret.slice(0, 12)}…`);
  }
  await tracing.shutdown();
});

test('errors: a 5xx reaches Sentry with its request id, and nothing secret or personal does', async () => {
  const envelopes: string[] = [];
  const ingest = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      envelopes.push((request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8'));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => ingest.listen(0, '127.0.0.1', resolve));
  const reporter = await startErrorTracking(`http://publickey@127.0.0.1:${(ingest.address() as AddressInfo).port}/1`, 'test');
  const api = await startApi({}, {
    errorReporter: reporter,
    write: async () => {
      throw new Error('ledger exploded: Key (username)=(secret_username_42) is odd');
    },
  });
  apis.push(api);
  const payer = await signUp(api);
  const failed = await api.app.inject({
    method: 'POST', url: '/v1/transfers', headers: auth(payer, key()),
    payload: { from_wallet_id: payer.walletId, to_wallet_id: payer.walletId, amount: '1.00', currency: 'USD', description: 'correct horse battery' },
  });
  assert.equal(failed.statusCode, 500);
  assert.equal(await reporter.flush(5_000), true);
  await waitFor('the event at the ingest endpoint', async () => (envelopes.some((envelope) => envelope.includes('ledger exploded')) ? true : undefined));
  const sent = envelopes.join('\n');
  assert.ok(sent.includes(String(failed.headers['x-request-id'])), 'tagged with the request id');
  for (const secret of [payer.token, payer.refreshToken, 'correct horse battery', 'secret_username_42', testJwtSecret]) {
    assert.equal(sent.includes(secret), false, `Sentry received ${secret.slice(0, 12)}…`);
  }
  await new Promise((resolve) => ingest.close(resolve));

  const scrubbed = JSON.stringify(scrubEvent({
    type: undefined,
    request: { headers: { authorization: 'Bearer x' } },
    user: { email: 'a@b.c' },
    extra: { password: 'p', nested: { refresh_token: 'r', note: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl whsec_abc=' } },
  }));
  assert.doesNotMatch(scrubbed, /Bearer|a@b\.c|"p"|"r"|eyJhbGci|whsec_abc/);
});
