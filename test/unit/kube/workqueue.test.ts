import { jest } from '@jest/globals';
import { backoffDelay, WorkQueue } from '../../../src/kube/workqueue.js';

/** get() with a bound: undefined when nothing arrives within the (fake) time. */
async function tryGet(q: WorkQueue): Promise<string | undefined> {
  let got: string | undefined;
  let settled = false;
  void q.get().then((k) => {
    got = k;
    settled = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  return settled ? got : undefined;
}

describe('backoffDelay', () => {
  it.each([
    [0, 100],
    [1, 200],
    [2, 400],
    [5, 3200],
    [10, 60_000],
    [40, 60_000],
    [1000, 60_000],
  ])('after %p failures: %p ms', (n, want) => {
    expect(backoffDelay(n, { baseMs: 100, maxMs: 60_000 })).toBe(want);
  });
});

describe('WorkQueue', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('de-duplicates a key that is queued and keeps order', async () => {
    const q = new WorkQueue('t');
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  it('never hands a key being processed to a second worker; a re-add runs once after done', async () => {
    const q = new WorkQueue('t');
    q.add('a');
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0); // held back while processing
    q.done('a');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('hands a re-added key to a worker already waiting when the first pass is done', async () => {
    const q = new WorkQueue('t');
    q.add('a');
    await q.get();
    const waiting = q.get();
    q.add('a');
    q.add('b');
    expect(await waiting).toBe('b'); // a is still processing
    q.done('a');
    expect(await q.get()).toBe('a');
  });

  it('many workers, one key: at most one processes it at a time', async () => {
    const q = new WorkQueue('t');
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        runs++;
        await new Promise((r) => setImmediate(r));
        inFlight--;
        q.done(k);
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    for (let i = 0; i < 20; i++) {
      q.add('same');
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    q.shutdown();
    await Promise.all(workers);
    expect(maxInFlight).toBe(1);
    expect(runs).toBeGreaterThan(1);
  });

  it('a second worker waiting gets nothing while the only key is being processed', async () => {
    const q = new WorkQueue('t');
    q.add('a');
    await q.get();
    q.add('a');
    expect(await tryGet(q)).toBeUndefined();
  });

  it('addRateLimited backs off exponentially per item, capped; forget resets', async () => {
    jest.useFakeTimers();
    const q = new WorkQueue('t', { baseMs: 100, maxMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const start = Date.now();
      q.addRateLimited('a');
      // find the time at which it arrives
      let waited = 0;
      while (q.length === 0 && waited < 5000) {
        jest.advanceTimersByTime(10);
        waited += 10;
      }
      delays.push(Date.now() - start);
      q.done((await q.get())!);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.numRequeues('a')).toBe(6);
    expect(q.numRequeues('b')).toBe(0); // per item
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('addAfter: the earliest pending delayed add wins, and fires once', () => {
    jest.useFakeTimers();
    const q = new WorkQueue('t');
    q.addAfter('a', 1000);
    q.addAfter('a', 5000); // later: ignored
    q.addAfter('a', 300); // earlier: replaces
    jest.advanceTimersByTime(299);
    expect(q.length).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    jest.advanceTimersByTime(10_000);
    expect(q.length).toBe(1); // neither the 1000 nor the 5000 one fired again
  });

  it('addAfter with a zero or negative delay adds at once', () => {
    const q = new WorkQueue('t');
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    expect(q.length).toBe(2);
  });

  it('shutdown wakes waiting workers with undefined, drops delayed adds and refuses new keys', async () => {
    jest.useFakeTimers();
    const q = new WorkQueue('t');
    const w1 = q.get();
    const w2 = q.get();
    q.addAfter('later', 1000);
    q.shutdown();
    expect(await w1).toBeUndefined();
    expect(await w2).toBeUndefined();
    q.add('x');
    q.addAfter('y', 10);
    q.addRateLimited('z');
    jest.advanceTimersByTime(60_000);
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });
});
