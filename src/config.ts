// The validated, frozen environment. Bad configuration stops the process with one clear line.

export interface Config {
  nodeEnv: string;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  redisUrl: string | undefined;
  eventsUrl: string | undefined;
  /** The RabbitMQ exchange, NATS subject prefix (and stream) and Kafka topic events go to. */
  eventsTopic: string;
  /** Seconds to wait before each webhook retry; the first attempt is immediate. */
  webhookRetryScheduleSeconds: number[];
  /** An endpoint failing without a single success for this long is disabled. */
  webhookDisableAfterSeconds: number;
  jwtSecret: string | undefined;
  adminUsername: string | undefined;
  adminPassword: string | undefined;
  defaultCurrency: string;
  allowSelfDeposit: boolean;
  logLevel: string;
  /** OpenTelemetry: export traces over OTLP/HTTP to this endpoint; unset → no tracing at all. */
  otlpEndpoint: string | undefined;
  otelServiceName: string;
  /** Sentry: report errors to this DSN; unset → not loaded. */
  sentryDsn: string | undefined;
  corsOrigins: string[];
  trustProxy: boolean;
  rateLimitPerMinute: number;
  loginAttemptsPer15Minutes: number;
  ledgerWritersMax: number;
  sealIntervalSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(`${name} must be a port number (0-65535), got "${text}"`);
  return value;
}

function count(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${name} must be a whole number of at least 1, got "${text}"`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${text}"`);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return text;
}

function seconds(env: Env, name: string, fallback: number[]): number[] {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length > 20 || !values.every((value) => Number.isFinite(value) && value > 0 && value <= 7 * 86_400)) {
    throw new ConfigError(`${name} must be up to 20 comma-separated delays in seconds (each above 0, at most a week), got "${text}"`);
  }
  return values;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const nodeEnv = env.NODE_ENV || 'development';
  const jwtSecret = env.JWT_SECRET || undefined;
  if (nodeEnv === 'production' && !jwtSecret) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters');
  const adminUsername = env.ADMIN_USERNAME || undefined;
  const adminPassword = env.ADMIN_PASSWORD || undefined;
  if ((adminUsername === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError('ADMIN_USERNAME and ADMIN_PASSWORD must be set together');
  }
  if (adminPassword !== undefined && adminPassword.length < 12) throw new ConfigError('ADMIN_PASSWORD must be at least 12 characters');
  const defaultCurrency = env.DEFAULT_CURRENCY || 'USD';
  if (!/^[A-Z][A-Z0-9]{2,9}$/.test(defaultCurrency)) throw new ConfigError(`DEFAULT_CURRENCY must be a currency code, got "${defaultCurrency}"`);
  const eventsTopic = env.EVENTS_TOPIC || 'kassa.events';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(eventsTopic)) throw new ConfigError(`EVENTS_TOPIC must be letters, digits, '.', '_' or '-' (at most 100), got "${eventsTopic}"`);
  const logLevel = env.LOG_LEVEL || 'info';
  if (!logLevels.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}`);
  return Object.freeze({
    nodeEnv,
    port: port(env, 'PORT', 3000),
    host: env.HOST || '0.0.0.0',
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: env.DATA_DIR || './.data',
    embeddedPostgresPort: port(env, 'EMBEDDED_PG_PORT', 54320),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    eventsUrl: url(env, 'EVENTS_URL', ['amqp:', 'amqps:', 'nats:', 'kafka:']),
    eventsTopic,
    // The Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27 hours.
    webhookRetryScheduleSeconds: seconds(env, 'WEBHOOK_RETRY_SCHEDULE', [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]),
    webhookDisableAfterSeconds: count(env, 'WEBHOOK_DISABLE_AFTER_SECONDS', 5 * 86_400),
    jwtSecret,
    adminUsername,
    adminPassword,
    defaultCurrency,
    allowSelfDeposit: boolean(env, 'ALLOW_SELF_DEPOSIT', false),
    logLevel,
    otlpEndpoint: url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
    otelServiceName: env.OTEL_SERVICE_NAME || 'kassa',
    sentryDsn: url(env, 'SENTRY_DSN', ['http:', 'https:']),
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    rateLimitPerMinute: count(env, 'RATE_LIMIT_PER_MINUTE', 1_200),
    loginAttemptsPer15Minutes: count(env, 'LOGIN_ATTEMPTS_PER_15_MINUTES', 10),
    ledgerWritersMax: count(env, 'LEDGER_WRITERS', 1),
    sealIntervalSeconds: count(env, 'SEAL_INTERVAL_SECONDS', 60),
  });
}
