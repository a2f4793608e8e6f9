import type { PostOutcome, PostRequest } from '../ledger/transfer.ts';
import { KassaError } from '../ledger/errors.ts';
import type { TransferWriter } from './moveMoney.ts';

export interface CoalescerOptions {
  /** Writes one batch in one round trip and one commit (postTransfers). */
  writeBatch: (requests: PostRequest[]) => Promise<PostOutcome[]>;
  /**
   * Batches written at once (one per writer); more queue up and leave together. Each writer may
   * also hold one batch waiting behind the one it writes (see drain).
   */
  inFlightMax: number;
  /** Transfers per batch (a batch request of 1,000 counts 1,000). */
  batchTransfersMax: number;
  /** Requests allowed to wait; past it a request is refused at once rather than queued forever. */
  queueMax: number;
}

interface Waiting {
  request: PostRequest;
  resolve: (outcome: PostOutcome) => void;
  reject: (error: unknown) => void;
}

// SQL errors in these classes mean the statement failed and nothing was committed: data
// exceptions (22), integrity violations (23) and raised exceptions (P0). Anything else, such as a
// lost connection, may have committed, so it is never retried here.
const statementFailedClasses = ['22', '23', 'P0'];

function statementFailed(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && statementFailedClasses.includes(code.slice(0, 2));
}

/**
 * Gathers concurrent money requests into batches of the one write function, so one commit serves
 * many callers and a hot account is locked once per batch. A lone request is written at once;
 * while batches are in flight, arrivals wait and leave together as the next batch. Each caller
 * gets its own outcome.
 */
export interface CoalescingWriter extends TransferWriter {
  /** Resolves once nothing is queued or being written: shutdown waits for it before closing the pool. */
  whenIdle(): Promise<void>;
}

export function createCoalescingWriter(options: CoalescerOptions): CoalescingWriter {
  const queue: Waiting[] = [];
  let queuedTransfers = 0;
  let lastBatchTransfers = 0;
  let inFlight = 0; // being written, or waiting behind one that is
  let idleWaiters: (() => void)[] = [];

  function takeBatch(): Waiting[] {
    const batch: Waiting[] = [];
    let transfers = 0;
    while (queue.length > 0) {
      const size = queue[0]!.request.transfers.length;
      if (batch.length > 0 && transfers + size > options.batchTransfersMax) break;
      batch.push(queue.shift()!);
      transfers += size;
    }
    queuedTransfers -= transfers;
    lastBatchTransfers = transfers;
    return batch;
  }

  /** Writes one request on its own (a poisoned batch is retried request by request). */
  async function writeAlone(waiting: Waiting): Promise<void> {
    try {
      waiting.resolve((await options.writeBatch([waiting.request]))[0]!);
    } catch (error) {
      waiting.reject(error);
    }
  }

  function dispatch(batch: Waiting[]): void {
    inFlight++;
    // When a batch is written, the next one leaves first and this one's callers are answered
    // after it, so the database works on the next batch while this process sends the responses
    // (answering first left the writer idle meanwhile; measured: uniform 2,335 -> 2,664/s).
    const finished = () => {
      inFlight--;
      drain();
    };
    options.writeBatch(batch.map((waiting) => waiting.request)).then(
      (outcomes) => {
        finished();
        setImmediate(() => batch.forEach((waiting, index) => waiting.resolve(outcomes[index]!)));
      },
      (error: unknown) => {
        if (batch.length > 1 && statementFailed(error)) {
          // One poisoned request must not fail its neighbours: write each on its own.
          void Promise.all(batch.map(writeAlone)).finally(finished);
        } else {
          finished();
          for (const waiting of batch) waiting.reject(error);
        }
      },
    );
  }

  /**
   * A free writer takes the queue at once. A busy one is sent its next batch once the queue holds
   * as many transfers as the batch last sent (the callers of the batch before are back): it waits
   * behind the one being written and starts the moment that one commits, without waiting for this
   * process to be on a CPU to send it (measured: the writer idle 20 -> 12% of the uniform
   * workload, 3,593 -> 4,676/s). Sending it earlier made smaller batches and more commits.
   */
  function drain(): void {
    while (queue.length > 0) {
      const writerFree = inFlight < options.inFlightMax;
      const nextReady = inFlight < 2 * options.inFlightMax && queuedTransfers >= Math.min(lastBatchTransfers, options.batchTransfersMax);
      if (!writerFree && !nextReady) break;
      dispatch(takeBatch());
    }
    if (inFlight === 0 && queue.length === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
  }

  const writer = (request: PostRequest): Promise<PostOutcome> => {
    if (queue.length >= options.queueMax) {
      return Promise.reject(new KassaError('unavailable', 'the ledger is at capacity; retry with the same Idempotency-Key'));
    }
    return new Promise<PostOutcome>((resolve, reject) => {
      queue.push({ request, resolve, reject });
      queuedTransfers += request.transfers.length;
      drain();
    });
  };
  const whenIdle = () => (inFlight === 0 && queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)));
  return Object.assign(writer, { whenIdle });
}
