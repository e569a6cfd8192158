// Checks cronToOnCalendar against the real systemd: for each cron expression, the
// next N firing times from a fixed base, computed (a) by brute force with a small
// independent cron evaluator written here and (b) by `systemd-analyze calendar
// --base-time=... --iterations=N` over every emitted OnCalendar= expression
// (their union). systemd 252 has --base-time, so both start from the same instant.
import { cronToOnCalendar } from '../../../src/render/index.js';
import { hasSystemdAnalyze, systemdCalendarNext } from '../../harness/systemdCalendar.js';

const N = 12;
const BASE = Date.UTC(2024, 0, 1, 0, 0, 0); // Mon 2024-01-01 00:00 UTC (2024 is a leap year)

// ---- the reference: a deliberately naive cron evaluator (no shared code with src/api/cron.ts or src/render/calendar.ts) ----
const NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};

function refField(text: string, min: number, max: number): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText ? parseInt(stepText, 10) : 1;
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      [lo, hi] = [min, max];
      if (!stepText || step === 1) star = true;
    } else {
      const val = (s: string) => (/^\d+$/.test(s) ? parseInt(s, 10) : (NAMES[s.toLowerCase()] as number));
      const [a, b] = range.split('-') as [string, string | undefined];
      lo = val(a);
      hi = b !== undefined ? val(b) : stepText ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { set, star };
}

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

/** Next n firing times (ms since epoch, in the zone's wall clock via Intl) strictly after base. */
function referenceNext(expr: string, n: number, base: number, timeZone = 'UTC'): number[] {
  const fields = (MACROS[expr] ?? expr).trim().split(/\s+/);
  const [mi, h, dom, mon, dow] = [
    refField(fields[0] as string, 0, 59),
    refField(fields[1] as string, 0, 23),
    refField(fields[2] as string, 1, 31),
    refField(fields[3] as string, 1, 12),
    refField(fields[4] as string, 0, 6),
  ];
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  });
  const wd: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  const out: number[] = [];
  // Minute by minute; skip the rest of an hour when the hour does not match (still brute force, just faster).
  for (let t = base + 60_000; out.length < n && t < base + 13 * 366 * 86_400_000;) {
    const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    const [month, day, hour, minute, weekday] = [
      Number(parts.month),
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
      wd[parts.weekday as string] as number,
    ];
    const domOk = dom.set.has(day);
    const dowOk = dow.set.has(weekday);
    const dayOk = dom.star || dow.star ? domOk && dowOk : domOk || dowOk;
    if (!mon.set.has(month) || !dayOk || !h.set.has(hour)) {
      t += (60 - minute) * 60_000;
      continue;
    }
    if (mi.set.has(minute)) out.push(t);
    t += 60_000;
  }
  return out;
}

// systemd's side: the real systemd-analyze (test/harness/systemdCalendar.ts).
const systemdNext = (calendars: string[], n: number, base: number): number[] =>
  systemdCalendarNext(calendars, new Date(base), n).map((t) => t.getTime());

// [expr, time zone or ''] (two elements always: jest would take a missing one for `done`)
const CASES: Array<[string, string]> = [
  ['* * * * *', ''],
  ['0 * * * *', ''],
  ['15 */2 * * *', ''],
  ['*/15 9-17 * * MON-FRI', ''],
  ['*/7 * * * *', ''],
  ['5,10-12,30 0 * * *', ''],
  ['10-40/10 3 * * *', ''],
  ['7/20 * * * *', ''],
  ['0 0 1 * *', ''],
  ['30 6 31 * *', ''],
  ['0 0 29 2 *', ''],
  ['0 0 * * 0', ''],
  ['0 12 * * 5-6', ''],
  ['*/7 * * * *', 'Europe/Berlin'],
  ['*/60 */7 * * *', ''],
  ['0 12 * * sun,Wed,SAT', ''],
  ['0 12 1 jan,Jul *', ''],
  ['0 0 1 */3 *', ''],
  ['0 0 1,15 * 1', ''], // day-of-month OR day-of-week
  ['0 0 */2 * 1', ''], // robfig: */2 is a restriction, so OR
  ['0 0 13 * 5', ''], // every 13th and every Friday
  ['0 0 ? * 1', ''],
  ['0 0 1 * 0-6', ''], // OR with every weekday = every day
  ['45 23 28-31 * *', ''], // month ends
  ['0 9-17/4 * 2-11 mon-fri', ''],
  ['59 23 31 12 *', ''],
  ['@hourly', ''],
  ['@daily', ''],
  ['@weekly', ''],
  ['@monthly', ''],
  ['@yearly', ''],
  ['0 9 * * 1-5', 'Asia/Tokyo'],
  ['30 1 1,15 * sat', 'Asia/Kolkata'],
];

/** Yearly (or rarer) schedules: fewer iterations, to keep the brute force quick. */
const SPARSE = new Set(['0 0 29 2 *', '59 23 31 12 *', '@yearly']);

describe('cronToOnCalendar agrees with systemd-analyze calendar', () => {
  // The oracle is the real systemd-analyze: a host without it fails here, loudly,
  // rather than passing a check it never made (make deps installs systemd).
  it('has systemd-analyze to check against', () => {
    expect(hasSystemdAnalyze()).toBe(true);
  });

  it.each(CASES)('%s %s', (expr, tz) => {
    const calendars = cronToOnCalendar(expr, tz || undefined);
    const n = SPARSE.has(expr) ? 3 : N;
    const expected = referenceNext(expr, n, BASE, tz || 'UTC');
    expect(expected).toHaveLength(n);
    const actual = systemdNext(calendars, n, BASE);
    expect(actual.map((t) => new Date(t).toISOString())).toEqual(expected.map((t) => new Date(t).toISOString()));
  });

  it('has at least 25 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });
});
