// systemd OnCalendar= -> a cron schedule, for imported .timer files. Only the
// calendar events cron can express: seconds 0, any year, no "~" (last days),
// and not both a weekday and a day of month (systemd wants both, cron either).
// The result is checked by the round-trip test with systemd-analyze against
// the source expression.

const SHORTHANDS: Record<string, string> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
};

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function weekday(s: string): number {
  const i = WEEKDAYS.findIndex((d) => s.toLowerCase().startsWith(d));
  if (i < 0) throw new Error(`'${s}' is not a weekday`);
  return i;
}

/** "Mon..Fri,Sun" -> cron day-of-week "1,2,3,4,5,0" (systemd's week starts on Monday). */
function weekdays(text: string): string {
  const days: number[] = [];
  for (const item of text.split(',')) {
    const [a, b] = item.split('..');
    if (b === undefined) days.push(weekday(a!));
    else {
      // Monday-based positions, so Fri..Sun is 5, 6, 0.
      const pos = (d: number) => (d + 6) % 7;
      for (let p = pos(weekday(a!)); p <= pos(weekday(b)); p++) days.push((p + 1) % 7);
    }
  }
  return [...new Set(days)].join(',');
}

/** One systemd component ("*", "5", "01,04", "1..5", "0/15", "8..18/2") -> a cron field. */
function component(text: string, label: string): string {
  if (text === '*') return '*';
  return text
    .split(',')
    .map((item) => {
      if (item.includes('~')) throw new Error(`${label} '${text}': '~' (days before the month's end) has no cron equivalent`);
      const [range, step] = item.split('/');
      const [a, b] = range!.split('..');
      const num = (s: string) => {
        if (s === '*') return '*';
        if (!/^\d+$/.test(s)) throw new Error(`${label} '${text}' is not a number, range or repetition`);
        return String(Number(s));
      };
      let out = b === undefined ? num(a!) : `${num(a!)}-${num(b)}`;
      if (step !== undefined) out += `/${num(step)}`;
      return out;
    })
    .join(',');
}

/** The schedule and time zone of one OnCalendar= value; throws an Error saying why cron cannot express it. */
export function onCalendarToCron(value: string): { schedule: string; timeZone?: string } {
  const words = value.trim().split(/\s+/);
  let timeZone: string | undefined;
  const last = words[words.length - 1]!;
  if (words.length > 1 && /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(last) && !(last.toLowerCase() in SHORTHANDS)) {
    if (!/^[a-z]{3}/i.test(last) || last.includes('/') || last === 'UTC') {
      timeZone = last;
      words.pop();
    }
  }
  let spec = words.join(' ');
  if (SHORTHANDS[spec.toLowerCase()]) spec = SHORTHANDS[spec.toLowerCase()]!;
  const parts = spec.split(' ');
  let dow = '*';
  if (parts[0] && /^[A-Za-z]/.test(parts[0])) dow = weekdays(parts.shift()!);
  let date = '*-*-*';
  let time = '00:00:00';
  for (const p of parts) {
    if (p.includes(':')) time = p;
    else if (p.includes('-')) date = p;
    else throw new Error(`'${p}' is neither a date nor a time`);
  }
  const d = date.split('-');
  if (d.length === 2) d.unshift('*');
  if (d.length !== 3) throw new Error(`date '${date}' is not [YEAR-]MONTH-DAY`);
  if (d[0] !== '*') throw new Error(`year '${d[0]}': cron has no year field`);
  const t = time.split(':');
  if (t.length === 2) t.push('00');
  if (t.length !== 3) throw new Error(`time '${time}' is not HOUR:MINUTE[:SECOND]`);
  if (!/^0+$/.test(t[2]!)) throw new Error(`second '${t[2]}': cron runs at second 0 only`);
  const dom = component(d[2]!, 'day');
  if (dom !== '*' && dow !== '*') {
    throw new Error('both a weekday and a day of month: systemd runs on days matching both, cron on days matching either');
  }
  const schedule = [component(t[1]!, 'minute'), component(t[0]!, 'hour'), dom, component(d[1]!, 'month'), dow].join(' ');
  return timeZone ? { schedule, timeZone } : { schedule };
}
