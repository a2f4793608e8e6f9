// Sentry, opt-in: loaded only when SENTRY_DSN is set. Only errors are sent (5xx answers and
// failures of background work), with the request id to find them in the logs; no default
// integrations, no request data, and a scrubber that redacts anything secret or personal.
import type { ErrorEvent } from '@sentry/node';

export interface ErrorReporter {
  report(error: unknown, where: { requestId?: string; method?: string; route?: string; task?: string }): void;
  flush(timeoutMs?: number): Promise<boolean>;
}

const sensitiveKey = /password|token|secret|authorization|cookie|national_id|email|username|dsn|key/i;

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return typeof value === 'string' ? scrubText(value) : value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, sensitiveKey.test(key) ? '[redacted]' : scrub(item, depth + 1)]));
}

/** PostgreSQL puts row values in messages ("Key (username)=(alice) already exists"); bearer tokens look like JWTs. */
function scrubText(text: string): string {
  return text
    .replace(/\(([^()]*)\)=\(([^()]*)\)/g, '($1)=([redacted])')
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '[redacted]')
    .replace(/whsec_[A-Za-z0-9+/=]+/g, '[redacted]');
}

export function scrubEvent(event: ErrorEvent): ErrorEvent {
  delete event.request; // headers, cookies, body, query: never sent
  delete event.user;
  delete event.breadcrumbs;
  delete event.server_name;
  return scrub(event) as ErrorEvent;
}

export async function startErrorTracking(dsn: string, environment: string): Promise<ErrorReporter> {
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn,
    environment,
    // Collect nothing about users or requests; beforeSend also drops anything that slips through.
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
    defaultIntegrations: false,
    integrations: [],
    enableOpenTelemetrySetup: false,
    beforeSend: scrubEvent,
    beforeBreadcrumb: () => null,
  });
  return {
    report(error, where) {
      Sentry.withScope((scope) => {
        if (where.requestId) scope.setTag('request_id', where.requestId);
        if (where.route) scope.setTag('route', `${where.method ?? ''} ${where.route}`.trim());
        if (where.task) scope.setTag('task', where.task);
        Sentry.captureException(error);
      });
    },
    flush: (timeoutMs = 2_000) => Sentry.flush(timeoutMs),
  };
}
