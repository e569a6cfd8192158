// Cron (5 fields): the API's schedule syntax, parsed and checked (the renderer
// turns a parsed schedule into OnCalendar=, src/render/calendar.ts).
//
// Semantics are those of Kubernetes CronJob (robfig/cron v3), plus 7 = Sunday:
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday); names case-insensitive;
//   items "*", "?" (day fields), "a", "a-b", with "/n" steps ("a/n" = "a-max/n");
//   lists with ","; descriptors @yearly @annually @monthly @weekly @daily
//   @midnight @hourly.
// Day rule: when both day-of-month and day-of-week are restricted (neither is
// "*" or "?" without a step greater than 1, as in robfig/cron), a day matches if
// EITHER matches (domStar/dowStar record it for the renderer).
import { FieldError } from './errors.js';

interface FieldDef {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The first name's value (JAN = 1, SUN = 0). */
  nameBase?: number;
  day?: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const FIELDS: readonly FieldDef[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31, day: true },
  { label: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { label: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0, day: true },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSchedule {
  minutes: number[];
  hours: number[];
  /** 1-31 */
  daysOfMonth: number[];
  /** 1-12 */
  months: number[];
  /** 0-6, Sunday = 0 (7 folded into 0) */
  daysOfWeek: number[];
  /** true when the field is "*" or "?" (no step > 1): the cron day rule needs it. */
  domStar: boolean;
  dowStar: boolean;
}

/** An invalid schedule; message "schedule: <reason>" (field configurable). */
export class CronError extends FieldError {}

function parseValue(text: string, def: FieldDef, field: string): number {
  if (/^\d+$/.test(text)) {
    const v = Number(text);
    if (v < def.min || v > def.max) {
      throw new CronError(field, `${def.label} field '${text}' out of range ${def.min}-${def.max}`);
    }
    return v;
  }
  const idx = def.names?.indexOf(text.toLowerCase()) ?? -1;
  if (idx >= 0) return idx + (def.nameBase ?? 0);
  const hint = def.names
    ? ` (a number ${def.min}-${def.max} or ${def.names[0]?.toUpperCase()}-${def.names[def.names.length - 1]?.toUpperCase()})`
    : ` (a number ${def.min}-${def.max})`;
  throw new CronError(field, `${def.label} field '${text}' is not a valid value${hint}`);
}

function parseField(text: string, def: FieldDef, field: string): { values: number[]; star: boolean } {
  if (text === '') throw new CronError(field, `${def.label} field is empty`);
  const set = new Set<number>();
  let star = false;
  for (const item of text.split(',')) {
    if (item === '') throw new CronError(field, `${def.label} field '${text}' has an empty list item`);
    const parts = item.split('/');
    if (parts.length > 2) throw new CronError(field, `${def.label} field '${item}' has more than one '/'`);
    const [rangeText, stepText] = parts as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) throw new CronError(field, `${def.label} field '${item}': step '${stepText}' is not a number`);
      step = Number(stepText);
      if (step < 1) throw new CronError(field, `${def.label} field '${item}': step must be at least 1`);
      if (step > def.max) throw new CronError(field, `${def.label} field '${item}': step ${step} is larger than ${def.max}`);
    }
    let lo: number;
    let hi: number;
    if (rangeText === '*' || (rangeText === '?' && def.day)) {
      lo = def.min;
      hi = def.label === 'day-of-week' ? 6 : def.max;
      if (step === 1) star = true;
    } else {
      const bounds = rangeText.split('-');
      if (bounds.length > 2) throw new CronError(field, `${def.label} field '${item}' is not a valid range`);
      lo = parseValue(bounds[0] as string, def, field);
      if (bounds.length === 2) {
        hi = parseValue(bounds[1] as string, def, field);
        if (hi < lo) throw new CronError(field, `${def.label} field '${item}': range start is after its end`);
      } else {
        // "a/n" means "a-max/n"; a plain "a" is just a.
        hi = stepText !== undefined ? (def.label === 'day-of-week' ? 6 : def.max) : lo;
        if (def.label === 'day-of-week' && stepText !== undefined && lo === 7) hi = 7;
      }
    }
    for (let v = lo; v <= hi; v += step) set.add(def.label === 'day-of-week' && v === 7 ? 0 : v);
  }
  return { values: [...set].sort((a, b) => a - b), star };
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses a cron expression; throws a CronError naming the field and the reason. */
export function parseCron(expr: string, field = 'schedule'): CronSchedule {
  if (typeof expr !== 'string') throw new CronError(field, 'must be a string');
  const trimmed = expr.replace(/^ +| +$/g, '');
  let text = trimmed;
  if (trimmed.startsWith('@')) {
    const d = DESCRIPTORS[trimmed.toLowerCase()];
    if (!d)
      throw new CronError(
        field,
        `'${trimmed}' is not a supported descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)`,
      );
    text = d;
  }
  if (/[^ 0-9A-Za-z*?/,-]/.test(text)) {
    throw new CronError(field, `'${expr}' contains characters other than digits, names, space and * ? / , -`);
  }
  const parts = text.split(/ +/);
  if (parts.length !== 5) {
    throw new CronError(field, `must have 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  }
  const [mi, h, dom, mon, dow] = parts.map((p, i) => parseField(p, FIELDS[i] as FieldDef, field)) as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  const sched: CronSchedule = {
    minutes: mi.values,
    hours: h.values,
    daysOfMonth: dom.values,
    months: mon.values,
    daysOfWeek: dow.values,
    domStar: dom.star,
    dowStar: dow.star,
  };
  // A schedule that can never fire is almost certainly a mistake (e.g. "0 0 30 2 *").
  const domOnly = !sched.domStar && sched.dowStar;
  if (domOnly && !sched.months.some((m) => sched.daysOfMonth.some((d) => d <= (DAYS_IN_MONTH[m - 1] as number)))) {
    throw new CronError(field, `never fires: day-of-month ${parts[2]} does not occur in month ${parts[3]}`);
  }
  return sched;
}

/** Parts of the admission regex (RE2 and JS compatible) for a cron schedule. */
function schedulePattern(): string {
  const item = (v: string, day: boolean) => `(${day ? '[*?]' : '[*]'}|(${v})(-(${v}))?)(/[0-9]{1,2})?`;
  const field = (v: string, day = false) => `${item(v, day)}(,${item(v, day)})*`;
  const minute = '[0-5]?[0-9]';
  const hour = '[01]?[0-9]|2[0-3]';
  const dom = '0?[1-9]|[12][0-9]|3[01]';
  const month = `0?[1-9]|1[0-2]|${MONTHS.join('|')}`;
  const dow = `0?[0-7]|${DAYS.join('|')}`;
  const five = [field(minute), field(hour), field(dom, true), field(month), field(dow, true)].join(' +');
  return `^ *(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|${five}) *$`;
}

/**
 * The admission-time sanity check of a schedule, for a CEL matches() in the CRD
 * (prefixed with RE2's (?i)); it accepts what parseCron accepts except range order,
 * step size and never-firing dates, which the controller reports.
 */
export const SCHEDULE_PATTERN = schedulePattern();
