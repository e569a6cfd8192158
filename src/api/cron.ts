// Cron (5 fields): the API's schedule syntax, parsed and checked (the renderer
// turns a parsed schedule into OnCalendar=, src/render/calendar.ts).
//
// Semantics and syntax are exactly those of Kubernetes CronJob: robfig/cron v3's
// ParseStandard (test/integration/render/cron-oracle.test.ts compares fire times
// with it, built from the Go module proxy):
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-6 or SUN-SAT; names case-insensitive; in every field the items
//   "*", "?" (the same as "*"), "a", "a-b", with "/n" steps ("a/n" = "a-max/n"),
//   any step >= 1 (a step beyond the field, "*/60", keeps only the start);
//   lists with ","; the lower-case descriptors @yearly @annually @monthly
//   @weekly @daily @midnight @hourly.
// Refused, as robfig refuses them: 7 as Sunday, upper-case descriptors, @reboot,
// a sixth (seconds) field. Refused although robfig accepts them (no OnCalendar=
// equivalent, or a quirk nobody means): "@every <duration>" (an interval from
// the last run, not a calendar), "+5" (Go's Atoi sign), "*-5" (robfig reads
// it as "*"), a TZ=/CRON_TZ= prefix (use timeZone, as CronJob demands), and a
// schedule that never fires ("0 0 30 2 *": robfig finds no time, CronJob never runs).
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
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const FIELDS: readonly FieldDef[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { label: 'day-of-week', min: 0, max: 6, names: DAYS, nameBase: 0 },
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
  /** 0-6, Sunday = 0 */
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

const MAX_STEP = 999_999_999;

// A "/n" step: any n >= 1 (robfig has no upper bound: "*/60" keeps only the start).
function parseStep(text: string, item: string, def: FieldDef, field: string): number {
  if (!/^\d+$/.test(text)) throw new CronError(field, `${def.label} field '${item}': step '${text}' is not a number`);
  const step = Number(text);
  if (step < 1) throw new CronError(field, `${def.label} field '${item}': step must be at least 1`);
  // Any step past the field's size means the same (only the start), so nothing is lost;
  // the bound keeps the CRD's CEL int() conversion of the step in range.
  if (step > MAX_STEP) throw new CronError(field, `${def.label} field '${item}': step must be at most ${MAX_STEP}`);
  return step;
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
    const step = stepText === undefined ? 1 : parseStep(stepText, item, def, field);
    let lo: number;
    let hi: number;
    if (rangeText === '*' || rangeText === '?') {
      lo = def.min;
      hi = def.max;
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
        hi = stepText !== undefined ? def.max : lo;
      }
    }
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { values: [...set].sort((a, b) => a - b), star };
}

/** How a never-firing schedule's reason starts (validate.ts tells it from the other reasons). */
export const NEVER_FIRES = 'never fires';

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses a cron expression; throws a CronError naming the field and the reason. */
export function parseCron(expr: string, field = 'schedule'): CronSchedule {
  if (typeof expr !== 'string') throw new CronError(field, 'must be a string');
  const trimmed = expr.replace(/^ +| +$/g, '');
  let text = trimmed;
  if (trimmed.startsWith('@')) {
    // Case-sensitive, as robfig's parseDescriptor.
    const d = Object.hasOwn(DESCRIPTORS, trimmed) ? DESCRIPTORS[trimmed] : undefined;
    if (!d)
      throw new CronError(
        field,
        `'${trimmed}' is not a supported descriptor (lower-case @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)`,
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
    throw new CronError(field, `${NEVER_FIRES}: day-of-month ${parts[2]} does not occur in month ${parts[3]}`);
  }
  return sched;
}

/** Either case of each letter: the pattern is case-sensitive for the descriptors, as robfig is. */
const anyCase = (name: string): string => [...name].map((c) => `[${c.toUpperCase()}${c}]`).join('');

/** The admission regex (RE2 and JS compatible) for a cron schedule. */
function schedulePattern(): string {
  const item = (v: string) => `([*?]|(${v})(-(${v}))?)(/0*[0-9]{1,9})?`;
  const field = (v: string) => `${item(v)}(,${item(v)})*`;
  // Leading zeros are allowed, as robfig's strconv.Atoi allows them.
  const minute = '0*[1-5]?[0-9]';
  const hour = '0*(1?[0-9]|2[0-3])';
  const dom = '0*([1-9]|[12][0-9]|3[01])';
  const month = `0*([1-9]|1[0-2])|${MONTHS.map(anyCase).join('|')}`;
  const dow = `0*[0-6]|${DAYS.map(anyCase).join('|')}`;
  const five = [field(minute), field(hour), field(dom), field(month), field(dow)].join(' +');
  return `^ *(@(${Object.keys(DESCRIPTORS)
    .map((d) => d.slice(1))
    .join('|')})|${five}) *$`;
}

/**
 * The admission-time check of a schedule, for a CEL matches() in the CRD; it
 * accepts what parseCron accepts except range order, zero steps and
 * never-firing dates (SCHEDULE_FIRES_RULE).
 */
export const SCHEDULE_PATTERN = schedulePattern();

/**
 * The CRD's never-fires rule (CEL, on the schedule string): false for a schedule
 * that matches no day at all, e.g. "0 0 30 2 *" or "0 0 31 4,6,9,11 *" (robfig
 * finds no time: the CronJob would never run). Only a day-of-month of 30 and 31
 * with day-of-week "*" can be empty (every month has 29 days). Regexes over the
 * whole string, as CEL's cost budget allows no parsing of items: they catch
 * lists of single values and names (the way such a mistake is written); a
 * never-firing schedule written with ranges or steps ("0 0 31 4-6/2 *") passes
 * admission and is refused by the controller (InvalidSpec) and kubectl sdw
 * validate, through parseCron (the rule's twin).
 */
function scheduleFiresRule(): string {
  // Ranges only where every value between the ends is in the list (30-31, 2-2).
  const list = (values: string[], ranges: boolean) => {
    const v = `(${values.join('|')})`;
    const item = ranges ? `${v}(-${v})?` : v;
    return `${item}(,${item})*`;
  };
  const month = (m: number) => `0*${m}|${anyCase(MONTHS[m - 1] as string)}`;
  const dowStar = '[*?](/0*1)?';
  const empty = (dom: string[], months: number[]) =>
    `^ *[^ ]+ +[^ ]+ +${list(dom, true)} +${list(months.map(month), months.length === 1)} +${dowStar} *$`;
  const in30or31 = empty(['0*30', '0*31'], [2]);
  const on31 = empty(['0*31'], [2, 4, 6, 9, 11]);
  return `!self.matches('${in30or31}') && !self.matches('${on31}')`;
}

export const SCHEDULE_FIRES_RULE = scheduleFiresRule();
