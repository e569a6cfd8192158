import { describe, expect, it } from '@jest/globals';
import { BACKOFF_RESET_MS, afterAgentStart, backOffDelayMs, planBackOff, type BackOffUnit } from '../../../src/agent/backoff.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function unit(over: Partial<BackOffUnit> = {}): BackOffUnit {
  return {
    file: 'sdw-default_w_app.service',
    policy: 'Always',
    scheduled: false,
    delaySeconds: 2,
    maxDelaySeconds: 30,
    state: { activeState: 'failed', execMainExitTimestamp: iso(NOW - 1000), nRestarts: 5 },
    record: { attempts: 0, earlierRestarts: 0 },
    ...over,
  };
}

describe('backOffDelayMs', () => {
  it('doubles from the delay up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backOffDelayMs(a, 2, 30) / 1000)).toEqual([4, 8, 16, 30, 30, 30]);
  });
  it('starts at 1 s without a delay, and never overflows', () => {
    expect(backOffDelayMs(0, 0, 300)).toBe(2000);
    expect(backOffDelayMs(10_000, 1, 300)).toBe(300_000);
  });
});

describe('planBackOff', () => {
  it('waits for a failed unit and says when it starts', () => {
    const plan = planBackOff([unit()], NOW);
    expect(plan.start).toEqual([]);
    expect(plan.records.get('sdw-default_w_app.service')?.nextStartAt).toBe(NOW + 3000);
    expect(plan.nextInMs).toBe(3000);
  });
  it('starts a failed unit once its delay has passed', () => {
    const plan = planBackOff(
      [unit({ record: { attempts: 2, earlierRestarts: 12 }, state: { activeState: 'failed', execMainExitTimestamp: iso(NOW - 16_000) } })],
      NOW,
    );
    expect(plan.start).toEqual(['sdw-default_w_app.service']);
  });
  it('leaves Never, scheduled and running units alone', () => {
    const plan = planBackOff(
      [
        unit({ file: 'a.service', policy: 'Never' }),
        unit({ file: 'b.service', scheduled: true }),
        unit({ file: 'c.service', state: { activeState: 'active', execMainStartTimestamp: iso(NOW - 1000) } }),
      ],
      NOW,
    );
    expect(plan.start).toEqual([]);
    expect(plan.nextInMs).toBeUndefined();
  });
  it('OnFailure restarts a failed unit too', () => {
    expect(planBackOff([unit({ policy: 'OnFailure', state: { activeState: 'failed' } })], NOW).nextInMs).toBe(4000);
  });
  it('resets the attempts once the unit stayed up for 10 minutes, and not before', () => {
    const up = (ms: number) =>
      unit({ record: { attempts: 4, earlierRestarts: 30 }, state: { activeState: 'active', execMainStartTimestamp: iso(NOW - ms) } });
    const early = planBackOff([up(60_000)], NOW);
    expect(early.records.get('sdw-default_w_app.service')).toEqual({ attempts: 4, earlierRestarts: 30 });
    expect(early.nextInMs).toBe(BACKOFF_RESET_MS - 60_000);
    expect(planBackOff([up(BACKOFF_RESET_MS)], NOW).records.get('sdw-default_w_app.service')).toEqual({ attempts: 0, earlierRestarts: 30 });
  });
});

describe('afterAgentStart', () => {
  it("counts the agent's start and systemd's restarts before it", () => {
    expect(afterAgentStart({ attempts: 1, earlierRestarts: 6 }, { nRestarts: 5 })).toEqual({ attempts: 2, earlierRestarts: 12 });
  });
});
