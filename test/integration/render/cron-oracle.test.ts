// Our schedules fire exactly when Kubernetes CronJob would: the next 50 fire
// times of robfig/cron v3 (the library behind CronJob, built from the Go module
// proxy: hack/cron-oracle) against `systemd-analyze calendar --iterations=50`
// on the OnCalendar= lines we render, for a few hundred seeded random
// expressions, each from bases just before a day, a month and a year boundary.
//
// The one documented difference (README "Schedules"): at a fall-back DST change
// robfig fires at both occurrences of a repeated wall-clock time, a systemd
// timer with a time zone at the first only. Every other difference fails.
import { CronError } from '../../../src/api/cron.js';
import { cronToOnCalendar } from '../../../src/render/index.js';
import { cronOracle } from '../../harness/cronOracle.js';
import { hasSystemdAnalyze, systemdCalendarNext } from '../../harness/systemdCalendar.js';

const N = 50;
const BASES = {
  day: new Date('2026-06-14T23:50:00Z'),
  month: new Date('2026-02-28T23:50:00Z'),
  year: new Date('2026-12-31T23:50:00Z'),
};

// ---- seeded random cron expressions (mulberry32: the same list on every run) ----
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FieldSpec {
  min: number;
  max: number;
  names?: string[];
}
const FIELD_SPECS: FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'FEB', 'Mar', 'apr', 'MAY', 'jun', 'Jul', 'aug', 'SEP', 'oct', 'Nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'MON', 'Tue', 'wed', 'THU', 'fri', 'Sat'] },
];

function randomExpression(r: () => number): string {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  const field = (f: FieldSpec, busy: boolean): string => {
    // A "busy" field is mostly *, so the 50 fire times come from a few days, not years.
    if (busy && r() < 0.7) return '*';
    const value = (v: number) => (f.names && r() < 0.3 ? (f.names[v - f.min] as string) : r() < 0.1 ? `0${v}` : String(v));
    // Steps up to beyond the field's size: robfig accepts */60 (only the start fires).
    const step = () => int(2, f.max - f.min + 8);
    const item = (): string => {
      const a = int(f.min, f.max);
      const b = int(a, f.max);
      return pick([
        () => pick(['*', '?']),
        () => `*/${step()}`,
        () => value(a),
        () => `${value(a)}-${value(b)}`,
        () => `${value(a)}/${step()}`,
        () => `${value(a)}-${value(b)}/${step()}`,
      ])();
    };
    return Array.from({ length: r() < 0.75 ? 1 : int(2, 3) }, item).join(',');
  };
  return FIELD_SPECS.map((f, i) => field(f, i >= 2)).join(' ');
}

const SEED = 16;
const RANDOM_COUNT = 300;
const r = rng(SEED);
const RANDOM: string[] = Array.from({ length: RANDOM_COUNT }, () => randomExpression(r));

// Chosen cases: the bugs of issue #16 and the edges of the syntax on both sides.
const CHOSEN: string[] = [
  '*/7 * * * *',
  '0 */5 * * *',
  '0 0 */3 * *',
  '0 0 1 */5 *',
  '0 0 */10 * *',
  '*/60 * * * *',
  '*/45 */13 * * *',
  '0 0 */31 * *',
  '0 0 1 */12 *',
  '0 0 ? * ?',
  '? ? ? ? ?',
  '0 0 1,15 * MON',
  '0 0 13 * fri',
  '0 0 29 2 *',
  '59 23 31 12 *',
  '30 6 31 * *',
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
  // Refused by robfig: must be refused by us too.
  '0 0 * * 7',
  '0 0 * * 5-7',
  '@DAILY',
  '@Hourly',
  '@reboot',
  '0 0 0 * *',
  '0 24 * * *',
  '*/0 * * * *',
  '5-3 * * * *',
  '0 0 * * * *',
  '* * * *',
  'TZ=UTC 0 0 * * *', // CronJob refuses TZ= in schedule (spec.timeZone instead); robfig too, once prefixed with it
  // Accepted by robfig, refused by us on purpose (README "Schedules").
  '0 0 30 2 *',
  '0 0 31 4,6,9,11 *',
  '@every 1h',
  '+5 * * * *',
  '*-5 * * * *',
];

type Outcome =
  | { kind: 'match' }
  | { kind: 'dst-fall-back' }
  | { kind: 'robfig-five-years' }
  | { kind: 'differ'; robfig: string[]; systemd: string[] }
  | { kind: 'both-refuse' }
  | { kind: 'robfig-refuses'; calendars: string[] }
  | { kind: 'we-refuse'; reason: string };

const FIVE_YEARS = 5 * 366 * 86_400_000;

/** Wall-clock time in the zone (for telling a fall-back repeat). */
function wallClock(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(t));
}

const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());

function compare(expr: string, base: Date, timeZone: string): Outcome {
  const oracle = cronOracle(expr, base, timeZone, N);
  let calendars: string[];
  try {
    calendars = cronToOnCalendar(expr, timeZone === 'UTC' ? undefined : timeZone);
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    return oracle.ok ? { kind: 'we-refuse', reason: e.reason } : { kind: 'both-refuse' };
  }
  if (!oracle.ok) return { kind: 'robfig-refuses', calendars };
  const robfig = oracle.times.map((t) => t.getTime());
  const systemd = systemdCalendarNext(calendars, base, N).map((t) => t.getTime());
  if (robfig.length < N) {
    // robfig's Next gives up after five years without a match (the next 29 Feb after
    // 2096 is in 2104): CronJob stops there, systemd goes on. Equal up to that point.
    const prefix = systemd.slice(0, robfig.length);
    const after = systemd[robfig.length];
    const gaveUp = after !== undefined && after - (robfig.at(-1) ?? base.getTime()) > FIVE_YEARS;
    if (iso(prefix).join() === iso(robfig).join() && gaveUp) return { kind: 'robfig-five-years' };
    return { kind: 'differ', robfig: iso(robfig), systemd: iso(systemd) };
  }
  // Compare over the span both lists cover.
  const horizon = Math.min(robfig.at(-1) as number, systemd.at(-1) as number);
  const onlyRobfig = robfig.filter((t) => t <= horizon && !systemd.includes(t));
  const onlySystemd = systemd.filter((t) => t <= horizon && !robfig.includes(t));
  if (onlyRobfig.length === 0 && onlySystemd.length === 0) return { kind: 'match' };
  // robfig's extra times are each the second occurrence of a wall-clock time both fired at.
  const isRepeat = (t: number) => systemd.some((u) => u < t && wallClock(u, timeZone) === wallClock(t, timeZone));
  if (onlySystemd.length === 0 && onlyRobfig.every(isRepeat)) return { kind: 'dst-fall-back' };
  return { kind: 'differ', robfig: iso(onlyRobfig), systemd: iso(onlySystemd) };
}

describe('schedules fire when Kubernetes CronJob (robfig/cron v3) would', () => {
  it('has systemd-analyze to check against', () => {
    expect(hasSystemdAnalyze()).toBe(true);
  });

  it(`agrees on the next ${N} fire times of ${RANDOM_COUNT} random and ${CHOSEN.length} chosen expressions from 3 bases`, () => {
    const counts: Record<Outcome['kind'], number> = {
      match: 0,
      'dst-fall-back': 0,
      'robfig-five-years': 0,
      differ: 0,
      'both-refuse': 0,
      'robfig-refuses': 0,
      'we-refuse': 0,
    };
    const problems: string[] = [];
    const weRefuse = new Map<string, string>();
    for (const expr of [...RANDOM, ...CHOSEN]) {
      for (const [label, base] of Object.entries(BASES)) {
        const o = compare(expr, base, 'UTC');
        counts[o.kind]++;
        if (o.kind === 'we-refuse') weRefuse.set(expr, o.reason);
        if (o.kind === 'differ' || o.kind === 'dst-fall-back' || (o.kind === 'robfig-five-years' && expr !== '0 0 29 2 *'))
          problems.push(`${expr} from the ${label} base: ${JSON.stringify(o)}`);
        if (o.kind === 'robfig-refuses') problems.push(`${expr}: robfig refuses it, we render ${JSON.stringify(o.calendars)}`);
      }
    }
    const lines = Object.entries(counts).map(([k, v]) => `${k}: ${v}`);
    console.log(
      `cron oracle (${RANDOM.length + CHOSEN.length} expressions x ${Object.keys(BASES).length} bases, UTC):\n${lines.join('\n')}\n` +
        `refused by us, accepted by robfig:\n${[...weRefuse].map(([e, why]) => `  ${e}: ${why}`).join('\n')}`,
    );
    expect(problems).toEqual([]);
    // Each refusal of ours that robfig accepts is one of the documented ones.
    for (const [expr, why] of weRefuse) {
      expect([expr, why]).toEqual([
        expr,
        expect.stringMatching(/never fires|not a supported descriptor|not a valid value|contains characters/),
      ]);
    }
    expect(new Set(weRefuse.keys())).toEqual(new Set(['0 0 30 2 *', '0 0 31 4,6,9,11 *', '@every 1h', '+5 * * * *', '*-5 * * * *']));
    expect(counts.match).toBeGreaterThan(RANDOM_COUNT * 3 * 0.9);
  });
});

describe('daylight saving time, through systemd-analyze with real zones', () => {
  // Bases an hour before each 2026 change: New York falls back on 1 Nov (02:00 EDT -> 01:00 EST)
  // and springs forward on 8 Mar; Berlin on 25 Oct (03:00 CEST -> 02:00 CET) and 29 Mar.
  const ZONES = [
    { zone: 'America/New_York', fallBack: '2026-11-01T04:00:00Z', springForward: '2026-03-08T06:00:00Z', repeatedHour: 1, skippedHour: 2 },
    { zone: 'Europe/Berlin', fallBack: '2026-10-24T23:00:00Z', springForward: '2026-03-29T00:00:00Z', repeatedHour: 2, skippedHour: 2 },
  ];

  it.each(ZONES)('$zone: at the fall-back, a time in the repeated hour fires once (the first), where CronJob fires twice', (z) => {
    for (const expr of [`30 ${z.repeatedHour} * * *`, '0 * * * *', '*/20 * * * *', `15,45 ${z.repeatedHour} * * sun`]) {
      expect([expr, compare(expr, new Date(z.fallBack), z.zone).kind]).toEqual([expr, 'dst-fall-back']);
    }
    // The exact difference for the daily case: robfig's 2nd time is the repeat, systemd goes on to the next day.
    const robfig = cronOracle(`30 ${z.repeatedHour} * * *`, new Date(z.fallBack), z.zone, 3);
    const systemd = systemdCalendarNext(cronToOnCalendar(`30 ${z.repeatedHour} * * *`, z.zone), new Date(z.fallBack), 2);
    expect(robfig.ok && robfig.times[1]!.getTime() - robfig.times[0]!.getTime()).toBe(3_600_000);
    expect(robfig.ok && [robfig.times[0], robfig.times[2]]).toEqual(systemd);
  });

  it.each(ZONES)('$zone: outside the repeated hour, and at the spring-forward, both agree', (z) => {
    for (const expr of [`30 ${z.repeatedHour + 2} * * *`, '0 12 * * *', '*/7 9-17 * * mon-fri']) {
      expect([expr, compare(expr, new Date(z.fallBack), z.zone).kind]).toEqual([expr, 'match']);
    }
    // A time in the skipped hour does not fire that day on either side; the hours around it do.
    for (const expr of [`30 ${z.skippedHour} * * *`, '0 * * * *', '*/20 * * * *', `0 ${z.skippedHour - 1}-${z.skippedHour + 1} * * *`]) {
      expect([expr, compare(expr, new Date(z.springForward), z.zone).kind]).toEqual([expr, 'match']);
    }
  });
});
