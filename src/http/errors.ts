import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { KassaError } from '../ledger/errors.ts';
import { fieldErrors } from './validation.ts';
import { problem, sendProblem } from './problem.ts';

/** Maps every failure to problem+json in one place. A 5xx shows no internals; its cause is logged (and reported, when error tracking is on). */
export function registerErrorHandling(app: FastifyInstance, onServerError?: (error: Error, request: FastifyRequest) => void): void {
  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, problem('not_found', request.id, `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof KassaError) {
      return sendProblem(reply, problem(error.code, request.id, error.message, error.errors));
    }
    if (error.validation) {
      const errors = fieldErrors(error.validation as never, error.validationContext ?? 'body');
      return sendProblem(reply, problem('validation_failed', request.id, 'the request does not match the schema', errors));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, problem('payload_too_large', request.id, 'the request body is larger than allowed'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, problem('validation_failed', request.id, 'the request body is not valid JSON'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, problem('validation_failed', request.id, 'send the request body as application/json'));
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(reply, problem('validation_failed', request.id, 'the Content-Length header does not match the body'));
    }
    if (error.statusCode === 429) {
      return sendProblem(reply, problem('rate_limited', request.id, error.message));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, problem('validation_failed', request.id, error.message));
    }
    request.log.error({ err: error }, 'request failed');
    onServerError?.(error, request);
    if (isDatabaseUnavailable(error)) {
      return sendProblem(reply, problem('unavailable', request.id, 'the database is unavailable; retry with the same Idempotency-Key'));
    }
    return sendProblem(reply, problem('internal_error', request.id, 'something went wrong on our side; the request id identifies it in our logs'));
  });
}

const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);

function isDatabaseUnavailable(error: FastifyError): boolean {
  return unavailableCodes.has(error.code) || /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
}
