import type { FastifyInstance } from 'fastify';
import { KassaError } from '../ledger/errors.ts';

/** Deeper JSON than this is refused: nothing in the API nests that far, metadata included. */
export const jsonDepthMax = 32;

/**
 * PostgreSQL cannot store NUL in text or jsonb, and deep nesting only costs; both are refused up
 * front with a pointer, so they can never surface as a database error. The walk is iterative, so
 * no body can exhaust the stack.
 */
function findProblem(root: unknown, prefix: string): { pointer: string; detail: string } | undefined {
  const stack: { value: unknown; pointer: string; depth: number }[] = [{ value: root, pointer: prefix, depth: 0 }];
  while (stack.length > 0) {
    const { value, pointer, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { pointer: pointer || '/', detail: 'must not contain NUL characters' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= jsonDepthMax) return { pointer: pointer || '/', detail: `nests deeper than ${jsonDepthMax} levels` };
    for (const [key, item] of Object.entries(value)) {
      const escaped = key.replaceAll('~', '~0').replaceAll('/', '~1');
      if (key.includes('\u0000')) return { pointer: `${pointer}/${escaped}`, detail: 'field names must not contain NUL characters' };
      stack.push({ value: item, pointer: `${pointer}/${escaped}`, depth: depth + 1 });
    }
  }
  return undefined;
}

export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const problem = findProblem(request.body, '') ?? findProblem(request.query, '/query');
    if (problem) throw new KassaError('validation_failed', 'the request contains a value the API does not accept', [problem]);
  });
}
