import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.ts';

test('defaults give a working development configuration', () => {
  const config = loadConfig({});
  assert.equal(config.port, 3000);
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDir, './.data');
  assert.equal(config.defaultCurrency, 'USD');
  assert.equal(config.allowSelfDeposit, false);
  assert.ok(Object.isFrozen(config));
});

test('bad configuration fails with one clear line naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ NODE_ENV: 'production' }, /JWT_SECRET is required/],
    [{ PORT: 'abc' }, /PORT must be a port/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres/],
    [{ ADMIN_USERNAME: 'root' }, /must be set together/],
    [{ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' }, /at least 12/],
    [{ ALLOW_SELF_DEPOSIT: 'yes' }, /ALLOW_SELF_DEPOSIT must be true or false/],
    [{ EVENTS_URL: 'http://x' }, /EVENTS_URL must start with amqp/],
    [{ EVENTS_TOPIC: 'has space' }, /EVENTS_TOPIC must be letters/],
    [{ WEBHOOK_RETRY_SCHEDULE: '5,-1' }, /WEBHOOK_RETRY_SCHEDULE must be up to 20/],
    [{ WEBHOOK_DISABLE_AFTER_SECONDS: '0' }, /WEBHOOK_DISABLE_AFTER_SECONDS must be a whole number/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://x:4317' }, /OTEL_EXPORTER_OTLP_ENDPOINT must start with http/],
    [{ SENTRY_DSN: 'not a url' }, /SENTRY_DSN is not a valid URL/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'));
  }
});
