const retryableCodes = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
export const retryAttemptsMax = 5;

interface PgError {
  code?: string;
  constraint?: string;
}

function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint } = error as PgError;
  // A concurrent request committed an idempotency key this call writes (the insert waited for it):
  // the call rolled back whole, and on the retry its lookup replays that request's response.
  if (code === '23505' && constraint === 'idempotency_keys_pkey') return true;
  return retryableCodes.has(code ?? '');
}

/**
 * Retries a whole-transaction call on deadlock, serialization failure or a concurrently committed
 * idempotency key, bounded and jittered.
 */
export async function withRetry<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryable(error) || attempt >= retryAttemptsMax) throw error;
      const backoffMs = Math.random() * 5 * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
  }
}
