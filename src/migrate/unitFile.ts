// .service and .timer files -> jobs. Every directive is mapped to a unit field
// or reported, with file and line: nothing is dropped without a word.
// A NAME.timer goes with the .service its Unit= names (default NAME.service),
// which must be among the files given; the pair becomes one scheduled unit.
import type { RestartPolicy, UnitSpec } from '../api/types.js';
import { onCalendarToCron } from './calendar.js';
import { toName, uniqueNames, type ImportIssue, type ImportResult } from './job.js';

export interface UnitFileInput {
  path: string;
  text: string;
}

interface Directive {
  section: string;
  key: string;
  value: string;
  line: number;
}

/** Sections and key=value lines, with continuation lines (trailing backslash) joined. */
export function parseUnitFile(text: string): Directive[] {
  const out: Directive[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.replace(/\r$/, '').trim();
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      out.push({ section, key: line, value: '', line: start });
      continue;
    }
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: start });
  }
  return out;
}

const C_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", ' ': ' ', s: ' ' };

/** systemd's word splitting of ExecStart= and Environment= (quotes, C escapes). */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      const e = value[++i]!;
      if (!(e in C_ESCAPES)) throw new Error(`escape '\\${e}' is not supported`);
      cur += C_ESCAPES[e];
      inWord = true;
    } else if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error('unterminated quote');
  if (inWord) words.push(cur);
  return words;
}

/** `%%` -> `%`; any other specifier cannot be carried (the renderer escapes every %). */
function noSpecifiers(s: string): string {
  if (/%[^%]/.test(s.replace(/%%/g, ''))) throw new Error(`'${s}' uses a specifier (%x), which has no equivalent in a workload`);
  return s.replace(/%%/g, '%');
}

function bool(v: string): boolean {
  if (/^(1|yes|y|true|t|on)$/i.test(v)) return true;
  if (/^(0|no|n|false|f|off)$/i.test(v)) return false;
  throw new Error(`'${v}' is not a boolean`);
}

const SECONDS: Record<string, number> = {
  '': 1,
  s: 1,
  sec: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hour: 3600,
  hours: 3600,
  ms: 0.001,
  msec: 0.001,
};

/** A systemd time span ("5", "90s", "1min 30s") in seconds. */
export function timeSpan(v: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]*)/gy;
  const s = v.replace(/\s+/g, ' ').trim();
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < s.length && (m = re.exec(s)) !== null) {
    const f = SECONDS[m[2]!];
    if (f === undefined) throw new Error(`'${v}' is not a time span`);
    total += Number(m[1]) * f;
    pos = re.lastIndex;
    while (s[pos] === ' ') pos++;
    re.lastIndex = pos;
  }
  if (pos < s.length) throw new Error(`'${v}' is not a time span`);
  return total;
}

const BYTE_SUFFIX: Record<string, string> = { K: 'Ki', M: 'Mi', G: 'Gi', T: 'Ti' };

/** MemoryMax= -> a quantity (systemd's K, M, G are powers of 1024). */
function memory(v: string): string | undefined {
  if (v === 'infinity') return undefined;
  const m = /^(\d+)([KMGT]?)$/.exec(v);
  if (!m) throw new Error(`'${v}' (only bytes with K, M, G, T or infinity)`);
  return `${m[1]}${m[2] ? BYTE_SUFFIX[m[2]] : ''}`;
}

type Unit = Omit<UnitSpec, 'name'>;
/** A mapping applies a directive to the unit; it throws an Error saying why it cannot. */
type Mapping = (u: Unit, v: string) => void;

const RESTART: Record<string, RestartPolicy> = { no: 'Never', always: 'Always', 'on-failure': 'OnFailure' };
const limits = (u: Unit) => ((u.resources ??= {}).limits ??= {});
const sandbox = (u: Unit) => (u.sandbox ??= {});
const paths = (v: string) =>
  splitWords(v).map((p) => {
    if (/^[-+]/.test(p)) throw new Error(`'${p}': the - and + prefixes have no equivalent`);
    return noSpecifiers(p);
  });
const TRI: Record<string, string> = { yes: 'true', true: 'true', no: 'false', false: 'false' };

const SERVICE: Record<string, Mapping> = {
  Type: (u, v) => {
    if (v === 'simple' || v === 'exec') u.type = 'service';
    else if (v === 'oneshot') u.type = 'oneshot';
    else throw new Error(`Type=${v}: only simple, exec and oneshot`);
  },
  ExecStart: (u, v) => {
    if (u.command.length) throw new Error('a second ExecStart= (one command per unit)');
    if (/^[-@:+!]/.test(v)) throw new Error(`the prefix '${v[0]}' has no equivalent`);
    const argv = splitWords(v).map(noSpecifiers);
    if (argv.some((a) => /\$(\{|[A-Za-z_])/.test(a.replace(/\$\$/g, ''))))
      throw new Error('$VARIABLE expansion has no equivalent (commands are passed literally)');
    u.command = argv.map((a) => a.replace(/\$\$/g, '$'));
  },
  Environment: (u, v) => {
    for (const w of splitWords(v)) {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new Error(`'${w}' is not NAME=value`);
      (u.env ??= []).push({ name: w.slice(0, eq), value: noSpecifiers(w.slice(eq + 1)) });
    }
  },
  User: (u, v) => void (u.user = noSpecifiers(v)),
  Group: (u, v) => void (u.group = noSpecifiers(v)),
  DynamicUser: (u, v) => void (u.dynamicUser = bool(v)),
  WorkingDirectory: (u, v) => {
    if (!v.startsWith('/')) throw new Error(`'${v}': only an absolute path`);
    u.workingDirectory = noSpecifiers(v);
  },
  Restart: (u, v) => {
    const p = RESTART[v];
    if (!p) throw new Error(`Restart=${v}: only no, always, on-failure`);
    (u.restart ??= {}).policy = p;
  },
  RestartSec: (u, v) => void ((u.restart ??= {}).delaySeconds = Math.ceil(timeSpan(v))),
  MemoryMax: (u, v) => {
    const q = memory(v);
    if (q !== undefined) limits(u).memory = q;
  },
  CPUQuota: (u, v) => {
    const m = /^(\d+)%$/.exec(v);
    if (!m) throw new Error(`CPUQuota=${v}: only N%`);
    limits(u).cpu = `${Number(m[1]) * 10}m`;
  },
  CPUWeight: (u, v) => {
    if (!/^\d+$/.test(v)) throw new Error(`CPUWeight=${v}: only a number`);
    ((u.resources ??= {}).requests ??= {}).cpu = `${Number(v) * 10}m`;
  },
  TasksMax: (u, v) => {
    if (v === 'infinity') return;
    if (!/^\d+$/.test(v)) throw new Error(`TasksMax=${v}: only a number`);
    limits(u).tasks = Number(v);
  },
  PrivateTmp: (u, v) => void (sandbox(u).privateTmp = bool(v)),
  NoNewPrivileges: (u, v) => void (sandbox(u).noNewPrivileges = bool(v)),
  ProtectSystem: (u, v) => {
    const p = TRI[v] ?? v;
    if (!['true', 'false', 'full', 'strict'].includes(p)) throw new Error(`ProtectSystem=${v}`);
    sandbox(u).protectSystem = p as 'true';
  },
  ProtectHome: (u, v) => {
    const p = TRI[v] ?? v;
    if (!['true', 'false', 'read-only', 'tmpfs'].includes(p)) throw new Error(`ProtectHome=${v}`);
    sandbox(u).protectHome = p as 'true';
  },
  ReadOnlyPaths: (u, v) => void (sandbox(u).readOnlyPaths = [...(sandbox(u).readOnlyPaths ?? []), ...paths(v)]),
  ReadWritePaths: (u, v) => void (sandbox(u).readWritePaths = [...(sandbox(u).readWritePaths ?? []), ...paths(v)]),
};
SERVICE.MemoryLimit = SERVICE.MemoryMax!;

/** Directives carried with a difference: a note, not a refusal. */
const NOTES: Record<string, string> = {
  'Unit.Description': 'not carried: the rendered Description names the workload and unit',
  'Unit.Documentation': 'not carried (informational)',
  'Service.RemainAfterExit': 'not carried: an unscheduled oneshot always gets RemainAfterExit=yes, a scheduled one never',
  'Timer.AccuracySec': 'rendered as AccuracySec=1s (runs on the minute, as cron)',
  'Timer.Persistent': 'rendered as Persistent=true (a run missed while the node was down is caught up)',
};

function isImplied(d: Directive, timer: boolean): boolean {
  if (d.section !== 'Install') return false;
  // The agent enables every unit as the renderer installs it.
  return d.key === 'WantedBy' && (timer ? d.value === 'timers.target' : ['multi-user.target', 'default.target'].includes(d.value));
}

interface Parsed {
  file: UnitFileInput;
  base: string;
  unit: Unit;
  calendar?: { value: string; line: number };
  timerUnit?: string;
}

function baseName(p: string): string {
  return p.split('/').pop() ?? p;
}

function importOne(file: UnitFileInput, issues: ImportIssue[]): Parsed {
  const name = baseName(file.path);
  const timer = name.endsWith('.timer');
  const parsed: Parsed = { file, base: name.replace(/\.(service|timer)$/, ''), unit: { command: [] } };
  const at = (l: number) => `${file.path}:${l}`;
  for (const d of parseUnitFile(file.text)) {
    const key = `${d.section}.${d.key}`;
    if (isImplied(d, timer)) continue;
    if (timer && d.section === 'Timer' && d.key === 'OnCalendar') {
      if (parsed.calendar)
        issues.push({ source: at(d.line), kind: 'unsupported', message: 'a second OnCalendar= (one schedule per unit)' });
      else parsed.calendar = { value: d.value, line: d.line };
      continue;
    }
    if (timer && key === 'Timer.Unit') {
      parsed.timerUnit = d.value;
      continue;
    }
    if (key === 'Timer.Persistent' && !bool(d.value)) {
      issues.push({ source: at(d.line), kind: 'unsupported', message: 'Persistent=false: scheduled units always catch up a missed run' });
      continue;
    }
    const note = NOTES[key];
    if (note) {
      issues.push({ source: at(d.line), kind: 'note', message: `${d.key}=${d.value}: ${note}` });
      continue;
    }
    const map = !timer && d.section === 'Service' ? SERVICE[d.key] : undefined;
    if (!map) {
      issues.push({ source: at(d.line), kind: 'unsupported', message: `[${d.section}] ${d.key}=${d.value}: no SystemdWorkload field` });
      continue;
    }
    try {
      map(parsed.unit, d.value);
    } catch (err) {
      issues.push({ source: at(d.line), kind: 'unsupported', message: `${d.key}=: ${(err as Error).message}` });
    }
  }
  return parsed;
}

/** Imports .service and .timer files; a timer and its service become one scheduled unit. */
export function importUnitFiles(files: readonly UnitFileInput[]): ImportResult {
  const issues: ImportIssue[] = [];
  const parsed = files.map((f) => {
    if (!/\.(service|timer)$/.test(f.path)) {
      issues.push({ source: f.path, kind: 'unsupported', message: 'only .service and .timer files' });
      return undefined;
    }
    if (/@/.test(baseName(f.path))) {
      issues.push({ source: f.path, kind: 'unsupported', message: 'template units (name@.service) have no equivalent' });
      return undefined;
    }
    return importOne(f, issues);
  });
  const services = new Map<string, Parsed>();
  for (const p of parsed) if (p && p.file.path.endsWith('.service')) services.set(baseName(p.file.path), p);
  const used = new Set<Parsed>();
  const jobs: Array<{ unit: Unit; base: string; source: string }> = [];
  for (const t of parsed) {
    if (!t || !t.file.path.endsWith('.timer')) continue;
    const target = t.timerUnit ?? `${t.base}.service`;
    const svc = services.get(target);
    if (!svc) {
      issues.push({ source: t.file.path, kind: 'unsupported', message: `its service ${target} is not among the files given` });
      continue;
    }
    used.add(svc);
    if (!t.calendar) {
      issues.push({ source: t.file.path, kind: 'unsupported', message: 'no OnCalendar= (only calendar timers)' });
      continue;
    }
    try {
      const c = onCalendarToCron(t.calendar.value);
      jobs.push({
        unit: { ...svc.unit, schedule: c.schedule, ...(c.timeZone ? { timeZone: c.timeZone } : {}) },
        base: t.base,
        source: `${t.file.path}:${t.calendar.line}`,
      });
    } catch (err) {
      issues.push({
        source: `${t.file.path}:${t.calendar.line}`,
        kind: 'unsupported',
        message: `OnCalendar=${t.calendar.value}: ${(err as Error).message}`,
      });
    }
  }
  for (const s of services.values()) {
    if (!used.has(s)) jobs.push({ unit: s.unit, base: s.base, source: s.file.path });
  }
  const valid = jobs.filter((j) => {
    if (j.unit.command.length === 0) issues.push({ source: j.source, kind: 'unsupported', message: 'no ExecStart=' });
    return j.unit.command.length > 0;
  });
  const names = uniqueNames(valid.map((j) => toName(j.base)));
  return { jobs: valid.map((j, i) => ({ unit: { name: names[i]!, ...j.unit }, source: j.source })), issues };
}
