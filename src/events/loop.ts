/**
 * Runs `cycle` until stopped: straight again while it reports more work, otherwise after
 * `idleMs`. stop() wakes a sleeping loop and resolves when the cycle in progress has finished.
 */
export function runLoop(cycle: () => Promise<boolean>, idleMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const busy = await cycle();
      if (!busy && !stopped) await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, idleMs).unref();
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
