import { Ajv, type ErrorObject } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from '../ledger/errors.ts';

// ajv-formats is CommonJS; under ESM its function arrives as the default export.
const addFormats = ajvFormats.default as unknown as (ajv: Ajv) => Ajv;

function createAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    // Bodies are taken exactly as sent: a number is not a string and an unknown field is an
    // error, never silently dropped. Query strings and path params are text, so they coerce.
    coerceTypes: coerce ? 'array' : false,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = createAjv(false);
const textAjv = createAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object);
};

const partPrefix: Record<string, string> = { body: '', querystring: '/query', params: '/path', headers: '/headers' };

/** Turns Ajv errors into RFC 6901 pointers into the request, e.g. `/transfers/3/amount`. */
export function fieldErrors(errors: ErrorObject[], context: string): FieldError[] {
  const prefix = partPrefix[context] ?? '';
  return errors.map((error) => {
    let pointer = prefix + error.instancePath;
    let detail = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      pointer += `/${extra.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      detail = 'is not a known field';
    } else if (error.keyword === 'required') {
      pointer += `/${String((error.params as { missingProperty: string }).missingProperty)}`;
      detail = 'is required';
    }
    return { pointer: pointer || '/', detail };
  });
}
