import type { FastifyReply, FastifyRequest } from 'fastify';
import { isErrorCode, type ErrorCode } from '../ledger/errors.ts';
import type { IdempotencyClaim, PostOutcome, TransferResult } from '../ledger/transfer.ts';
import type { RouteContext } from './context.ts';
import { problem, problemContentType, sendProblem, type Problem } from './problem.ts';
import { renderTransfer } from './render.ts';
import type { TransferWire } from './schemas.ts';

type Settled = Extract<PostOutcome, { results: TransferResult[] }>;

/**
 * The idempotent frame every money-moving POST runs in (the claim comes from `idempotencyClaim`,
 * taken first so that a missing key is reported before anything else): key scoped to the caller,
 * a duplicate still running answers 409, a different body under the same key 422, and a replay
 * gets the first response again with `Idempotent-Replayed: true`.
 */
export async function runIdempotent(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  claim: IdempotencyClaim,
  run: (claim: IdempotencyClaim) => Promise<PostOutcome>,
): Promise<Settled | undefined> {
  if (!ctx.inFlight.enter(claim)) {
    sendProblem(reply, problem('idempotency_key_in_use', request.id, 'a request with this Idempotency-Key is still running; retry after it finishes'));
    return undefined;
  }
  let outcome: PostOutcome;
  try {
    outcome = await run(claim);
  } finally {
    ctx.inFlight.leave(claim);
  }
  if (!('results' in outcome)) {
    sendProblem(
      reply,
      outcome.outcome === 'key_in_use'
        ? problem('idempotency_key_in_use', request.id, 'a request with this Idempotency-Key is still running; retry after it finishes')
        : problem('idempotency_key_reused', request.id, 'this Idempotency-Key was used with a different request body'),
    );
    return undefined;
  }
  if (outcome.outcome === 'replayed') reply.header('idempotent-replayed', 'true');
  for (const result of outcome.results) ctx.metrics.transfers.inc({ outcome: result.ok ? 'posted' : result.code });
  return outcome;
}

/** A failed transfer as problem details, carrying the request id of the response it first appeared in. */
export function resultProblem(result: Extract<TransferResult, { ok: false }>, requestId: string): Problem {
  const code: ErrorCode = isErrorCode(result.code) ? result.code : 'internal_error';
  return problem(code, requestId, result.detail);
}

/** Sends one transfer's result: the transfer (201 when created), or its problem. */
export function sendTransferResult(
  ctx: RouteContext,
  reply: FastifyReply,
  outcome: Settled,
  fallbackRequestId: string,
  successStatus: 200 | 201 = 201,
): TransferWire | FastifyReply {
  const result = outcome.results[0]!;
  if (result.ok) {
    reply.code(successStatus);
    return renderTransfer(result.transfer, ctx.currencies);
  }
  const body = resultProblem(result, outcome.requestId ?? fallbackRequestId);
  return reply.code(body.status).type(problemContentType).send(body);
}
