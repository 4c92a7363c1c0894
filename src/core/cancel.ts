/** Thrown when a run's AbortSignal fires; hosts treat it as "cancelled", not as a failure. */
export class CancelledError extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

export function isCancelled(error: unknown): error is CancelledError {
  return error instanceof Error && error.name === 'CancelledError';
}

/**
 * Lets the host's event loop run (progress delivery, cancel messages) between compute steps,
 * through a MessageChannel where there is one. A setTimeout(0) waits ≥ 1 ms in Node and ≥ 4 ms
 * in a browser once nested: more than a whole training step on a GPU (0.9 ms at batch 512 on an
 * H200), and in a browser ~0.5 s of yielding in a 1M-row scoring pass (one yield per chunk).
 * A message round trip takes 40–60 µs in Node here.
 */
export function yieldToHost(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** `promise`, or a rejection with "`message` within N s" if it has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
