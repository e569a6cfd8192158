import { BusDisconnectedError, CallTimeoutError } from '../../../src/systemd/errors.js';
import { JobTracker, type JobRemoved } from '../../../src/systemd/jobTracker.js';

const job = (n: number, result: JobRemoved['result'] = 'done'): JobRemoved => ({
  id: n,
  job: `/org/freedesktop/systemd1/job/${n}`,
  unit: `u${n}.service`,
  result,
});

describe('JobTracker', () => {
  it('resolves a waiter registered before JobRemoved', async () => {
    const t = new JobTracker();
    const p = t.wait(job(1).job);
    t.jobRemoved(job(1, 'failed'));
    await expect(p).resolves.toEqual(job(1, 'failed'));
    expect(t.pendingCount).toBe(0);
  });

  it('resolves a waiter registered AFTER JobRemoved (the StartUnit reply race)', async () => {
    const t = new JobTracker();
    t.jobRemoved(job(2));
    expect(t.finishedCount).toBe(1);
    await expect(t.wait(job(2).job)).resolves.toEqual(job(2));
    expect(t.finishedCount).toBe(0);
  });

  it('resolves every waiter of a merged job', async () => {
    const t = new JobTracker();
    const a = t.wait(job(3).job);
    const b = t.wait(job(3).job);
    t.jobRemoved(job(3));
    await expect(Promise.all([a, b])).resolves.toEqual([job(3), job(3)]);
  });

  it('bounds the finished jobs nobody waits for, by count and by age', async () => {
    let now = 0;
    const t = new JobTracker({ maxFinished: 3, finishedTtlMs: 1000, now: () => now });
    for (const n of [1, 2, 3, 4]) t.jobRemoved(job(n));
    expect(t.finishedCount).toBe(3); // job 1 evicted
    now = 2000;
    t.jobRemoved(job(5)); // evicts 2..4 (too old)
    expect(t.finishedCount).toBe(1);
    await expect(t.wait(job(5).job)).resolves.toEqual(job(5));
  });

  it('times a wait out', async () => {
    const t = new JobTracker();
    await expect(t.wait('/org/freedesktop/systemd1/job/9', 20)).rejects.toBeInstanceOf(CallTimeoutError);
    expect(t.pendingCount).toBe(0);
  });

  it('fails every waiter recognisably on abort, and forgets finished jobs', async () => {
    const t = new JobTracker();
    t.jobRemoved(job(7));
    const p = t.wait(job(8).job);
    const epoch = t.epoch;
    t.abortAll('bus');
    await expect(p).rejects.toBeInstanceOf(BusDisconnectedError);
    await expect(p).rejects.toMatchObject({ code: 'SDW_BUS_DISCONNECTED', cause_: 'bus' });
    expect(t.finishedCount).toBe(0);
    expect(t.epoch).toBe(epoch + 1);
  });
});
