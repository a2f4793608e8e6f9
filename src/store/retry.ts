const retryableCodes = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
export const retryAttemptsMax = 5;

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && retryableCodes.has((error as { code?: string }).code ?? '');
}

/** Retries a whole-transaction call on deadlock or serialization failure, bounded and jittered. */
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
