import { Ajv, type ValidateFunction } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const addFormats = ajvFormats.default as unknown as (ajv: Ajv) => Ajv;

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

/**
 * Checks every response the app sends against the OpenAPI document it publishes: the route must
 * document the status, and the body must validate against that status's schema.
 */
export function recordContractViolations(app: FastifyInstance): string[] {
  const violations: string[] = [];
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction | null>();
  let document: OpenApiDocument | undefined;

  function validatorFor(path: string, method: string, status: number): ValidateFunction | null | undefined {
    document ??= app.swagger() as unknown as OpenApiDocument;
    const id = `${method} ${path} ${status}`;
    if (!validators.has(id)) {
      const operation = document.paths[path]?.[method.toLowerCase()];
      if (!operation) return undefined; // hidden route: not part of the contract
      const response = operation.responses?.[String(status)];
      if (!response) validators.set(id, null);
      else {
        const schema = Object.values(response.content ?? {})[0]?.schema;
        validators.set(id, schema ? ajv.compile(schema) : ajv.compile({}));
      }
    }
    return validators.get(id);
  }

  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions.url;
    if (!route || request.is404) return payload;
    const path = route.replace(/:(\w+)/g, '{$1}');
    const validate = validatorFor(path, request.method, reply.statusCode);
    if (validate === undefined) return payload;
    if (validate === null) {
      violations.push(`${request.method} ${route} answered ${reply.statusCode}, which its schema does not document`);
      return payload;
    }
    if (reply.statusCode === 204) return payload;
    if (typeof (payload as { pipe?: unknown } | null)?.pipe === 'function') return payload; // a stream (Server-Sent Events): not JSON
    const body: unknown = typeof payload === 'string' ? JSON.parse(payload) : payload;
    if (!validate(body)) violations.push(`${request.method} ${route} ${reply.statusCode}: ${ajv.errorsText(validate.errors)} in ${String(payload).slice(0, 300)}`);
    return payload;
  });
  return violations;
}
