// A parsed cron schedule -> systemd OnCalendar= expressions.
// Day rule: when both day-of-month and day-of-week are restricted, cron matches
// a day if EITHER matches. OnCalendar= ANDs its components, so that case yields
// two expressions (one with the days of month, one with the weekdays); a timer
// with several OnCalendar= lines fires at the union.
import { CronError, parseCron } from '../api/cron.js';
import { LIMITS, PATTERNS } from '../api/schema.js';

const TIME_ZONE = new RegExp(PATTERNS.timeZone);

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}

/**
 * Compact systemd calendar component for a sorted set of values within [min, max].
 * A progression is always written bounded (`00..56/7`), never open-ended (`00/7`):
 * systemd 252 skips the first slot(s) after an open-ended repetition rolls over
 * into the next hour, day, month or year (`*:00/7` never fired at 00:00).
 */
function component(values: number[], min: number, max: number): string {
  if (values.length === max - min + 1) return '*';
  if (values.length >= 3) {
    const step = (values[1] as number) - (values[0] as number);
    const isProgression = step > 1 && values.every((v, i) => i === 0 || v - (values[i - 1] as number) === step);
    if (isProgression) return `${pad(values[0] as number)}..${pad(values[values.length - 1] as number)}/${step}`;
  }
  const out: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] as number) === (values[j] as number) + 1) j++;
    if (j - i >= 2) out.push(`${pad(values[i] as number)}..${pad(values[j] as number)}`);
    else for (let k = i; k <= j; k++) out.push(pad(values[k] as number));
    i = j + 1;
  }
  return out.join(',');
}

const WEEKDAYS_MON_FIRST = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function weekdays(daysOfWeek: number[]): string {
  // Monday-first order, so that ranges never wrap (systemd's week starts Monday).
  const idx = daysOfWeek.map((d) => (d + 6) % 7).sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && (idx[j + 1] as number) === (idx[j] as number) + 1) j++;
    if (j - i >= 2) out.push(`${WEEKDAYS_MON_FIRST[idx[i] as number]}..${WEEKDAYS_MON_FIRST[idx[j] as number]}`);
    else for (let k = i; k <= j; k++) out.push(WEEKDAYS_MON_FIRST[idx[k] as number] as string);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * Converts a cron expression to systemd OnCalendar= expressions (one, or two
 * under cron's day-of-month OR day-of-week rule), each suffixed with timeZone
 * when given. Throws a CronError ("schedule: ...") on an invalid expression.
 */
export function cronToOnCalendar(expr: string, timeZone?: string, field = 'schedule'): string[] {
  const s = parseCron(expr, field);
  if (timeZone !== undefined && (!TIME_ZONE.test(timeZone) || timeZone.length > LIMITS.timeZoneLength)) {
    throw new CronError(field.replace(/schedule$/, 'timeZone'), `'${timeZone}' is not an IANA time zone name`);
  }
  const tz = timeZone ? ` ${timeZone}` : '';
  const time = `${component(s.hours, 0, 23)}:${component(s.minutes, 0, 59)}:00`;
  const month = component(s.months, 1, 12);
  const allDom = s.daysOfMonth.length === 31;
  const allDow = s.daysOfWeek.length === 7;
  const dom = component(s.daysOfMonth, 1, 31);
  const dowPrefix = allDow ? '' : `${weekdays(s.daysOfWeek)} `;
  const line = (prefix: string, day: string) => `${prefix}*-${month}-${day} ${time}${tz}`;
  if (s.domStar || s.dowStar) {
    // AND: the star side matches every day.
    return [line(s.dowStar ? '' : dowPrefix, s.domStar ? '*' : dom)];
  }
  // OR: both restricted. If either side matches every day, so does the union.
  if (allDom || allDow) return [line('', '*')];
  return [line('', dom), line(dowPrefix, '*')];
}
