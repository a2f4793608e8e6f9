// OpenTelemetry, opt-in: nothing in this file is loaded unless OTEL_EXPORTER_OTLP_ENDPOINT is set
// (or a test hands in an exporter), so tracing costs nothing when it is off.
import { context, propagation, type Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';

export interface Tracing {
  tracer: Tracer;
  /** Flushes spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * A tracer exporting to `exporter`, or to the OTLP/HTTP endpoint (`<endpoint>/v1/traces`).
 * The provider is not made global: spans come only from Kassa's own instrumentation (HTTP,
 * PostgreSQL, broker publish), which is handed this tracer.
 */
export async function startTracing(options: { endpoint?: string; exporter?: SpanExporter; serviceName: string }): Promise<Tracing> {
  const { NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  let exporter = options.exporter;
  if (!exporter) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/$/, '')}/v1/traces` });
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  // Parent and child spans follow the request through async code.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator()); // a caller's `traceparent` is continued
  return { tracer: provider.getTracer('kassa'), shutdown: () => provider.shutdown() };
}
