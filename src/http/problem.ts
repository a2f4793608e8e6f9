import type { FastifyReply } from 'fastify';
import { errorCatalogue, type ErrorCode, type FieldError } from '../ledger/errors.ts';

export const problemContentType = 'application/problem+json; charset=utf-8';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: FieldError[];
}

/** RFC 9457 body for a catalogue code. Unknown codes from the ledger are a programmer error. */
export function problem(code: ErrorCode, requestId: string, detail?: string, errors?: FieldError[]): Problem {
  const entry = errorCatalogue[code];
  const body: Problem = {
    type: `urn:kassa:problem:${code}`,
    title: entry.title,
    status: entry.status,
    detail: detail ?? entry.title,
    code,
    request_id: requestId,
  };
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(problemContentType).send(body);
}
