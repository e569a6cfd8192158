// Crontab -> jobs. Reads user crontabs (`crontab -l`) and system crontabs
// (/etc/crontab, /etc/cron.d/*: a user column after the schedule) with the
// semantics of Debian's cron (Vixie cron 3.0), and says what each line becomes:
//   NAME=value          environment of the lines after it: units[].env
//   SHELL=...           the shell of the lines after it: command [SHELL, -c, LINE]
//   CRON_TZ=Zone        timeZone of the lines after it
//   MAILTO=...          not carried: output goes to the unit's journal (a note)
//   # comment, blank    nothing
//   @reboot CMD         a oneshot unit without schedule: runs when the workload
//                       reaches the node and at each boot (RemainAfterExit=yes)
//   SCHEDULE [USER] CMD a oneshot unit with that schedule (user: units[].user)
// `%` in a command: the first unescaped % ends the command and the rest is its
// standard input, each further % a newline; `\%` is a literal %. Input becomes
// `printf '%s\n' LINE... | SHELL -c CMD` (admission refuses newlines in commands).
// Vixie cron and Kubernetes CronJob (robfig/cron) read some schedules
// differently; those are translated (7 = Sunday, "N/S" = only N) or refused
// (a "*/S" day field next to a restricted one: cron wants both days, robfig either).
import { parseCron } from '../api/cron.js';
import type { EnvVar, UnitSpec } from '../api/types.js';
import { toName, uniqueNames, type ImportIssue, type ImportResult } from './job.js';

export interface CrontabOptions {
  /** A system crontab (/etc/crontab, /etc/cron.d): a user column after the schedule. */
  system: boolean;
  /** File name for messages and job names ("-" reads as "crontab"). */
  file: string;
}

/** Debian cron's default shell. */
export const DEFAULT_SHELL = '/bin/sh';

const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$/;

function envValue(raw: string): string {
  const v = raw.replace(/[ \t]+$/, '');
  const q = v[0];
  if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) return v.slice(1, -1);
  return v;
}

/** A single-quoted shell word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Splits a crontab command at unescaped % (command, then stdin lines); `\%` is a literal %. */
export function splitPercent(cmd: string): { command: string; input?: string[] } {
  const pieces: string[] = [''];
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === '\\' && cmd[i + 1] === '%') {
      pieces[pieces.length - 1] += '%';
      i++;
    } else if (c === '%') pieces.push('');
    else pieces[pieces.length - 1] += c;
  }
  const [command, ...input] = pieces as [string, ...string[]];
  return input.length ? { command, input } : { command };
}

/** The unit command of a crontab command line under shell `shell`. */
export function cronCommand(line: string, shell: string): string[] {
  const { command, input } = splitPercent(line);
  if (!input) return [shell, '-c', command];
  const printf = `printf '%s\\n' ${input.map(shellQuote).join(' ')}`;
  return [DEFAULT_SHELL, '-c', `${printf} | ${shellQuote(shell)} -c ${shellQuote(command)}`];
}

const DOW_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Vixie's day-of-week items robfig reads otherwise: 7 (Sunday) and ranges ending in 7. */
function translateDow(field: string): string {
  return field
    .split(',')
    .map((item) => {
      const [range, step] = item.split('/');
      if (range === '7' && step === undefined) return '0';
      const m = /^([0-6]|[a-z]{3})-7$/i.exec(range ?? '');
      if (m && step === undefined) {
        const lo = /^\d$/.test(m[1]!) ? Number(m[1]) : DOW_NAMES.indexOf(m[1]!.toLowerCase());
        return lo === 0 ? '*' : `${lo}-6,0`;
      }
      return item;
    })
    .join(',');
}

/** Vixie reads "N/S" as N alone (the step applies to the one-value range N-N); robfig as N-max/S. */
function translateSingleStep(field: string): string {
  return field
    .split(',')
    .map((item) => (/^[0-9a-z]+\/\d+$/i.test(item) ? item.split('/')[0]! : item))
    .join(',');
}

const starWithStep = (f: string) => f.startsWith('*') && f !== '*';
const restricted = (f: string) => !f.startsWith('*');

/**
 * The CronJob schedule with the meaning Vixie cron gave `fields` (5 fields), or
 * the reason it cannot be written for robfig.
 */
export function translateSchedule(fields: readonly string[]): { schedule: string } | { refused: string } {
  const [mi, h, dom, mon, dow] = fields as [string, string, string, string, string];
  if ((starWithStep(dom) && restricted(dow)) || (starWithStep(dow) && restricted(dom))) {
    return {
      refused: `day-of-month '${dom}' and day-of-week '${dow}': cron runs on days matching both (a field starting with * counts as unrestricted), Kubernetes CronJob on days matching either; write the days out`,
    };
  }
  const out = [mi, h, dom, mon, translateDow(dow)].map(translateSingleStep).join(' ');
  return { schedule: out };
}

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@reboot']);

interface LineJob {
  line: number;
  schedule?: string;
  unit: Omit<UnitSpec, 'name'>;
}

/** What the lines above a job set for it. */
interface CrontabState {
  env: EnvVar[];
  shell: string;
  timeZone?: string;
}

/** Applies an environment line; returns a note for what is not carried as is. */
function envLine(st: CrontabState, name: string, value: string): string | undefined {
  if (name === 'SHELL') st.shell = value;
  else if (name === 'CRON_TZ' || name === 'TZ') {
    st.timeZone = value === '' ? undefined : value;
    if (name === 'TZ') return 'TZ= taken as CRON_TZ= (the time zone of the schedules below)';
  } else if (name === 'MAILTO') {
    if (value !== '') return `MAILTO=${value}: no mail is sent; output goes to the unit's journal (kubectl sdw logs)`;
  } else {
    const prev = st.env.findIndex((e) => e.name === name);
    if (prev >= 0) st.env.splice(prev, 1);
    st.env.push({ name, value });
  }
  return undefined;
}

/** The schedule of a job line's words: a macro as it is, five fields translated from Vixie's meaning. */
function lineSchedule(words: readonly string[]): { schedule: string; note?: string } | { refused: string } {
  if (words[0]!.startsWith('@')) return { schedule: words[0]! };
  const source = words.slice(0, 5).join(' ');
  const t = translateSchedule(words.slice(0, 5));
  if ('refused' in t) return t;
  try {
    parseCron(t.schedule);
  } catch (err) {
    return { refused: (err as Error).message };
  }
  if (t.schedule === source) return t;
  return { ...t, note: `schedule '${source}' written as '${t.schedule}' (the same times under Kubernetes CronJob's rules)` };
}

/** A job line -> its unit (no name yet), or why it cannot be carried. */
function jobLine(line: string, st: CrontabState, o: CrontabOptions): { unit: Omit<UnitSpec, 'name'>; note?: string } | { refused: string } {
  const words = line.split(/[ \t]+/);
  const macro = words[0]!.startsWith('@');
  if (macro && !MACROS.has(words[0]!)) {
    return { refused: `'${words[0]}' is not a cron macro (@reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)` };
  }
  const nSched = macro ? 1 : 5;
  const nHead = nSched + (o.system ? 1 : 0);
  // The command is the rest of the line after the head's words, spacing kept.
  const head = new RegExp(`^(?:[^ \\t]+[ \\t]+){${nHead}}`).exec(line);
  if (!head || words.length <= nHead) {
    return { refused: `not a cron line: expected ${macro ? 'a macro' : '5 schedule fields'}${o.system ? ', a user' : ''} and a command` };
  }
  const user = o.system ? words[nSched] : undefined;
  const unit: Omit<UnitSpec, 'name'> = {
    type: 'oneshot',
    command: cronCommand(line.slice(head[0].length).replace(/[ \t]+$/, ''), st.shell),
    ...(st.env.length ? { env: st.env.map((e) => ({ ...e })) } : {}),
    ...(user !== undefined ? { user } : {}),
  };
  if (words[0] === '@reboot') return { unit };
  const s = lineSchedule(words);
  if ('refused' in s) return s;
  return { unit: { ...unit, schedule: s.schedule, ...(st.timeZone !== undefined ? { timeZone: st.timeZone } : {}) }, note: s.note };
}

/** Parses a crontab into jobs, with a report line for everything not carried over as is. */
export function importCrontab(text: string, o: CrontabOptions): ImportResult {
  const issues: ImportIssue[] = [];
  const found: LineJob[] = [];
  const st: CrontabState = { env: [], shell: DEFAULT_SHELL };
  const at = (n: number) => `${o.file}:${n}`;
  text.split('\n').forEach((rawLine, i) => {
    const n = i + 1;
    const line = rawLine.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) return;
    const envMatch = ENV_LINE.exec(line);
    const r = envMatch ? { note: envLine(st, envMatch[1]!, envValue(envMatch[2]!)) } : jobLine(line, st, o);
    if ('refused' in r) issues.push({ source: at(n), kind: 'unsupported', message: r.refused });
    else {
      if (r.note !== undefined) issues.push({ source: at(n), kind: 'note', message: r.note });
      if ('unit' in r) found.push({ line: n, schedule: r.unit.schedule, unit: r.unit });
    }
  });
  const base = toName(o.file === '-' ? 'crontab' : (o.file.split('/').pop() ?? 'crontab').replace(/\.(crontab|cron)$/, ''));
  const names = uniqueNames(found.map((j) => (found.length === 1 ? base : j.schedule === undefined ? `${base}-reboot` : base)));
  return { jobs: found.map((j, i) => ({ unit: { name: names[i]!, ...j.unit }, source: at(j.line) })), issues };
}
