import { describe, expect, it } from 'vitest';
import { CancelledError, throwIfCancelled, yieldToHost } from './cancel.ts';

describe('yieldToHost', () => {
  it('lets the host event loop run: a loop that yields sees a cancel that a timer sends', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    let yields = 0;
    const loop = async () => {
      for (;;) {
        throwIfCancelled(controller.signal);
        await yieldToHost();
        if (++yields > 1_000_000) throw new Error('the timer never ran');
      }
    };
    await expect(loop()).rejects.toBeInstanceOf(CancelledError);
    expect(yields).toBeGreaterThan(0);
  });
});
