import { CallTimeoutError } from '../../../src/systemd/errors.js';
import { Semaphore } from '../../../src/systemd/semaphore.js';
import { withTimeout } from '../../../src/async/timeout.js';

describe('withTimeout', () => {
  it('rejects a promise that never resolves with CallTimeoutError, and runs the cleanup', async () => {
    let cleaned = false;
    const never = new Promise<never>(() => undefined);
    const t0 = Date.now();
    const err = await withTimeout(never, 50, 'Manager.StartUnit("x")', () => (cleaned = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(err).toMatchObject({ code: 'SDW_CALL_TIMEOUT', timeoutMs: 50, what: 'Manager.StartUnit("x")' });
    expect((err as Error).message).toBe('Manager.StartUnit("x"): no answer within 50 ms');
    expect(cleaned).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('passes a value or an error through, without the cleanup', async () => {
    let cleaned = false;
    await expect(withTimeout(Promise.resolve(7), 50, 'x', () => (cleaned = true))).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 50, 'x')).rejects.toThrow('boom');
    await new Promise((r) => setTimeout(r, 80));
    expect(cleaned).toBe(false);
  });
});

describe('Semaphore', () => {
  it('keeps at most `limit` tasks running and runs them all', async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const task = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    };
    await Promise.all(Array.from({ length: 20 }, () => sem.run(task)));
    expect(peak).toBe(3);
    expect(sem.inFlight).toBe(0);
    expect(sem.queued).toBe(0);
  });

  it('releases the slot when a task fails', async () => {
    const sem = new Semaphore(1);
    await expect(sem.run(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(sem.run(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow();
  });
});
