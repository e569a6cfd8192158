import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { BurstBatcher } from '../../../src/agent/burst.js';
import { SYNC_BATCH_MAX_MS, SYNC_BATCH_MS } from '../../../src/agent/reconcile.js';

describe('BurstBatcher (child events -> node syncs)', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** The (fake) times at which the action ran, relative to the start. */
  function rig() {
    const start = Date.now();
    const fired: number[] = [];
    const b = new BurstBatcher(() => fired.push(Date.now() - start), SYNC_BATCH_MS, SYNC_BATCH_MAX_MS);
    return { b, fired };
  }

  it('a lone event runs the action once, SYNC_BATCH_MS later', () => {
    const { b, fired } = rig();
    b.poke();
    jest.advanceTimersByTime(SYNC_BATCH_MS - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([SYNC_BATCH_MS]);
    jest.advanceTimersByTime(10 * SYNC_BATCH_MAX_MS);
    expect(fired).toEqual([SYNC_BATCH_MS]);
  });

  it('32 events spread over more than one window (a busy API server) are ONE action, after the last', () => {
    const { b, fired } = rig();
    const gap = 20; // each within the window of the one before; the burst spans 31 gaps, under the cap
    for (let i = 0; i < 32; i++) {
      b.poke();
      if (i < 31) jest.advanceTimersByTime(gap);
    }
    expect(31 * gap).toBeGreaterThan(SYNC_BATCH_MS);
    expect(31 * gap + SYNC_BATCH_MS).toBeLessThan(SYNC_BATCH_MAX_MS);
    jest.advanceTimersByTime(10 * SYNC_BATCH_MAX_MS);
    expect(fired).toEqual([31 * gap + SYNC_BATCH_MS]);
  });

  it('a burst that never goes quiet still runs the action SYNC_BATCH_MAX_MS after its first event, then starts anew', () => {
    const { b, fired } = rig();
    for (let t = 0; t < 3 * SYNC_BATCH_MAX_MS; t += 10) {
      b.poke();
      jest.advanceTimersByTime(10);
    }
    expect(fired.slice(0, 2)).toEqual([SYNC_BATCH_MAX_MS, 2 * SYNC_BATCH_MAX_MS]);
  });

  it('events after a quiet window are a new burst; stop cancels a pending action', () => {
    const { b, fired } = rig();
    b.poke();
    jest.advanceTimersByTime(SYNC_BATCH_MS);
    b.poke();
    jest.advanceTimersByTime(SYNC_BATCH_MS);
    b.poke();
    b.stop();
    jest.advanceTimersByTime(10 * SYNC_BATCH_MAX_MS);
    expect(fired).toEqual([SYNC_BATCH_MS, 2 * SYNC_BATCH_MS]);
  });
});
