// validateWorkload: everything admission checks (the CRD's OpenAPI schema and CEL
// rules, same bounds, same messages in spirit) plus what CEL cannot: ordering
// cycles of any length, the exact reason a cron expression is wrong, quantity
// parsing, unknown time zones. The controller runs it before rendering (defence in
// depth, and for objects admitted by an older CRD); kubectl-sdw runs it on files.
import { API_VERSION, WORKLOAD_KIND } from '../api/types.js';
import { LIMITS, MESSAGES, PATTERNS } from '../api/schema.js';
import { CONTROL_CHARS } from './escape.js';
import { FieldError, type FieldIssue } from './errors.js';
import { parseCron } from './cron.js';
import { cpuMillis, memoryBytes } from './quantity.js';

export type { FieldIssue } from './errors.js';

const RE = {
  unitName: new RegExp(PATTERNS.unitName),
  envName: new RegExp(PATTERNS.envName),
  user: new RegExp(PATTERNS.user),
  path: new RegExp(PATTERNS.absolutePath),
  timeZone: new RegExp(PATTERNS.timeZone),
  percent: new RegExp(PATTERNS.maxUnavailablePercent),
  dnsLabel: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  dnsSubdomain: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
};

/** A MESSAGES entry without its leading "<field>: ". */
function reason(message: string): string {
  return message.replace(/^[^ ]+: /, '');
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Checker {
  readonly issues: FieldIssue[] = [];

  add(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  object(v: unknown, field: string, known: readonly string[]): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) {
      this.add(field, 'must be an object');
      return undefined;
    }
    for (const k of Object.keys(v)) if (!known.includes(k)) this.add(`${field}.${k}`, 'unknown field');
    return v;
  }

  array(v: unknown, field: string, maxItems: number, minItems = 0): unknown[] | undefined {
    if (v === undefined || v === null) {
      if (minItems > 0) this.add(field, 'is required');
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.add(field, 'must be a list');
      return undefined;
    }
    if (v.length < minItems) this.add(field, `must have at least ${minItems} item${minItems === 1 ? '' : 's'}`);
    if (v.length > maxItems) this.add(field, `must have at most ${maxItems} items`);
    return v;
  }

  /** A string that may reach a unit file: type, length, no control characters. */
  string(v: unknown, field: string, maxLength: number, opts: { required?: boolean; minLength?: number } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.add(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(field, 'must be a string');
      return undefined;
    }
    if (v.length > maxLength) this.add(field, `must be at most ${maxLength} characters`);
    if (opts.minLength && v.length < opts.minLength) this.add(field, 'must not be empty');
    if (CONTROL_CHARS.test(v)) this.add(field, MESSAGES.noControl);
    return v;
  }

  matching(v: unknown, field: string, maxLength: number, re: RegExp, message: string, required = false): string | undefined {
    const s = this.string(v, field, maxLength, { required, minLength: 1 });
    if (s !== undefined && s.length > 0 && !re.test(s)) this.add(field, message);
    return s;
  }

  integer(v: unknown, field: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.add(field, 'must be an integer');
      return undefined;
    }
    if (v < min || v > max) this.add(field, `must be between ${min} and ${max}`);
    return v;
  }

  boolean(v: unknown, field: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.add(field, 'must be a boolean');
      return undefined;
    }
    return v;
  }

  oneOf(v: unknown, field: string, values: readonly string[]): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !values.includes(v)) {
      this.add(field, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
      return undefined;
    }
    return v;
  }

  quantity(v: unknown, field: string, parse: (q: string | number, f: string) => bigint): void {
    if (v === undefined || v === null) return;
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.add(field, 'must be a quantity (string or integer)');
      return;
    }
    if (typeof v === 'string' && v.length > LIMITS.quantityLength) {
      this.add(field, `must be at most ${LIMITS.quantityLength} characters`);
      return;
    }
    try {
      parse(v, field);
    } catch (e) {
      if (e instanceof FieldError) this.add(field, e.reason);
      else throw e;
    }
  }

  names(v: unknown, field: string): string[] {
    const list = this.array(v, field, LIMITS.deps) ?? [];
    const out: string[] = [];
    const seen = new Set<string>();
    list.forEach((n, i) => {
      const s = this.matching(n, `${field}[${i}]`, LIMITS.unitNameLength, RE.unitName, reason(MESSAGES.unitName), true);
      if (s === undefined) return;
      if (seen.has(s)) this.add(`${field}[${i}]`, `duplicate value '${s}'`);
      seen.add(s);
      out.push(s);
    });
    return out;
  }
}

const UNIT_FIELDS = [
  'name', 'type', 'command', 'env', 'user', 'group', 'dynamicUser', 'workingDirectory', 'restart',
  'resources', 'after', 'requires', 'schedule', 'timeZone', 'sandbox',
] as const;

interface UnitDeps {
  name: string;
  index: number;
  after: string[];
  requires: string[];
}

function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function validateUnit(c: Checker, v: unknown, p: string): UnitDeps | undefined {
  const u = c.object(v, p, UNIT_FIELDS);
  if (!u) {
    if (v === undefined || v === null) c.add(p, 'must be an object');
    return undefined;
  }
  const name = c.matching(u.name, `${p}.name`, LIMITS.unitNameLength, RE.unitName, reason(MESSAGES.unitName), true);
  const type = c.oneOf(u.type, `${p}.type`, ['service', 'oneshot']) ?? 'service';

  const command = c.array(u.command, `${p}.command`, LIMITS.command, 1);
  command?.forEach((a, i) => c.string(a, `${p}.command[${i}]`, LIMITS.argLength, { required: true }));
  const argv0 = command?.[0];
  if (typeof argv0 === 'string' && (!argv0.startsWith('/') || argv0.endsWith('/') || argv0.includes('$'))) {
    c.add(`${p}.command[0]`, reason(MESSAGES.commandPath));
  }

  const env = c.array(u.env, `${p}.env`, LIMITS.env) ?? [];
  const envNames = new Set<string>();
  env.forEach((e, i) => {
    const ev = c.object(e, `${p}.env[${i}]`, ['name', 'value']);
    if (!ev) {
      if (!isObj(e)) c.add(`${p}.env[${i}]`, 'must be an object');
      return;
    }
    const n = c.matching(ev.name, `${p}.env[${i}].name`, LIMITS.envNameLength, RE.envName, reason(MESSAGES.envName), true);
    if (n !== undefined) {
      if (envNames.has(n)) c.add(`${p}.env[${i}].name`, `duplicate value '${n}'`);
      envNames.add(n);
    }
    c.string(ev.value, `${p}.env[${i}].value`, LIMITS.envValueLength);
  });

  const user = c.matching(u.user, `${p}.user`, LIMITS.userLength, RE.user, MESSAGES.user);
  c.matching(u.group, `${p}.group`, LIMITS.userLength, RE.user, MESSAGES.user);
  const dynamicUser = c.boolean(u.dynamicUser, `${p}.dynamicUser`);
  if (dynamicUser && user !== undefined) c.add(`${p}.user`, reason(MESSAGES.dynamicUser));
  c.matching(u.workingDirectory, `${p}.workingDirectory`, LIMITS.pathLength, RE.path, MESSAGES.path);

  const restart = c.object(u.restart, `${p}.restart`, ['policy', 'delaySeconds']);
  if (restart) {
    const policy = c.oneOf(restart.policy, `${p}.restart.policy`, ['Always', 'OnFailure', 'Never']);
    if (policy === 'Always' && type === 'oneshot') c.add(`${p}.restart.policy`, reason(MESSAGES.oneshotAlways));
    c.integer(restart.delaySeconds, `${p}.restart.delaySeconds`, 0, LIMITS.delaySeconds);
  }

  const resources = c.object(u.resources, `${p}.resources`, ['limits', 'requests']);
  if (resources) {
    const limits = c.object(resources.limits, `${p}.resources.limits`, ['memory', 'cpu', 'tasks']);
    if (limits) {
      c.quantity(limits.memory, `${p}.resources.limits.memory`, memoryBytes);
      c.quantity(limits.cpu, `${p}.resources.limits.cpu`, cpuMillis);
      c.integer(limits.tasks, `${p}.resources.limits.tasks`, 1, LIMITS.tasks);
    }
    const requests = c.object(resources.requests, `${p}.resources.requests`, ['cpu']);
    if (requests) c.quantity(requests.cpu, `${p}.resources.requests.cpu`, cpuMillis);
  }

  const after = c.names(u.after, `${p}.after`);
  const requires = c.names(u.requires, `${p}.requires`);
  if (name !== undefined && after.includes(name)) c.add(`${p}.after`, reason(MESSAGES.afterSelf));
  if (name !== undefined && requires.includes(name)) c.add(`${p}.requires`, reason(MESSAGES.requiresSelf));

  const schedule = c.string(u.schedule, `${p}.schedule`, LIMITS.scheduleLength);
  if (schedule !== undefined) {
    try {
      parseCron(schedule, `${p}.schedule`);
    } catch (e) {
      if (e instanceof FieldError) c.add(e.field, e.reason);
      else throw e;
    }
  }
  const tz = c.matching(u.timeZone, `${p}.timeZone`, LIMITS.timeZoneLength, RE.timeZone, 'must be an IANA time zone name such as Europe/Berlin');
  if (tz !== undefined) {
    if (schedule === undefined) c.add(`${p}.timeZone`, reason(MESSAGES.timeZoneNeedsSchedule));
    else if (RE.timeZone.test(tz) && !knownTimeZone(tz)) c.add(`${p}.timeZone`, `unknown time zone '${tz}'`);
  }

  const sandbox = c.object(u.sandbox, `${p}.sandbox`, ['privateTmp', 'protectSystem', 'protectHome', 'noNewPrivileges', 'readOnlyPaths', 'readWritePaths']);
  if (sandbox) {
    c.boolean(sandbox.privateTmp, `${p}.sandbox.privateTmp`);
    c.oneOf(sandbox.protectSystem, `${p}.sandbox.protectSystem`, ['false', 'true', 'full', 'strict']);
    c.oneOf(sandbox.protectHome, `${p}.sandbox.protectHome`, ['false', 'true', 'read-only', 'tmpfs']);
    c.boolean(sandbox.noNewPrivileges, `${p}.sandbox.noNewPrivileges`);
    for (const key of ['readOnlyPaths', 'readWritePaths'] as const) {
      const list = c.array(sandbox[key], `${p}.sandbox.${key}`, LIMITS.paths) ?? [];
      list.forEach((x, i) => c.matching(x, `${p}.sandbox.${key}[${i}]`, LIMITS.pathLength, RE.path, MESSAGES.path, true));
    }
  }
  return name === undefined ? undefined : { name, index: 0, after, requires };
}

/** Finds an ordering cycle in the after graph; returns it as [a, b, ..., a]. */
export function findAfterCycle(units: ReadonlyArray<{ name: string; after?: readonly string[] }>): string[] | undefined {
  const edges = new Map(units.map((u) => [u.name, u.after ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (!edges.has(m)) continue;
      const cycle = visit(m);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const u of units) {
    const cycle = visit(u.name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Validates a SystemdWorkload (any JSON value). Returns every problem found, each
 * with a field path (spec.units[0].command[0]) and a message; [] means valid.
 */
export function validateWorkload(obj: unknown): FieldIssue[] {
  const c = new Checker();
  if (!isObj(obj)) {
    c.add('', 'must be a SystemdWorkload object');
    return c.issues;
  }
  if (obj.apiVersion !== API_VERSION) c.add('apiVersion', `must be ${API_VERSION}`);
  if (obj.kind !== WORKLOAD_KIND) c.add('kind', `must be ${WORKLOAD_KIND}`);

  const meta = isObj(obj.metadata) ? obj.metadata : undefined;
  if (!meta) c.add('metadata', 'is required');
  else {
    const name = c.string(meta.name, 'metadata.name', 253, { required: true, minLength: 1 });
    if (name !== undefined) {
      if (!RE.dnsSubdomain.test(name)) c.add('metadata.name', 'must be a lowercase DNS subdomain');
      if (name.length > LIMITS.workloadNameLength) c.add('metadata.name', reason(MESSAGES.workloadName));
    }
    const ns = c.string(meta.namespace, 'metadata.namespace', 63);
    if (ns !== undefined && !RE.dnsLabel.test(ns)) c.add('metadata.namespace', 'must be a lowercase DNS label');
  }

  const spec = c.object(obj.spec, 'spec', ['nodeSelector', 'tolerations', 'units', 'updateStrategy', 'minReadySeconds', 'paused']);
  if (!spec) {
    if (obj.spec === undefined || obj.spec === null) c.add('spec', 'is required');
    return c.issues;
  }

  const sel = c.object(spec.nodeSelector, 'spec.nodeSelector', Object.keys(isObj(spec.nodeSelector) ? spec.nodeSelector : {}));
  if (sel) {
    if (Object.keys(sel).length > LIMITS.nodeSelector) c.add('spec.nodeSelector', `must have at most ${LIMITS.nodeSelector} entries`);
    for (const [k, val] of Object.entries(sel)) c.string(val, `spec.nodeSelector[${JSON.stringify(k)}]`, 63, { required: true });
  }

  const tolerations = c.array(spec.tolerations, 'spec.tolerations', LIMITS.tolerations) ?? [];
  tolerations.forEach((t, i) => {
    const p = `spec.tolerations[${i}]`;
    const tol = c.object(t, p, ['key', 'operator', 'value', 'effect']);
    if (!tol) return;
    c.string(tol.key, `${p}.key`, 316);
    const op = c.oneOf(tol.operator, `${p}.operator`, ['Exists', 'Equal']);
    const value = c.string(tol.value, `${p}.value`, 63);
    c.oneOf(tol.effect, `${p}.effect`, ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']);
    if (op === 'Exists' && value) c.add(`${p}.value`, reason(MESSAGES.tolerationExists));
  });

  const units = c.array(spec.units, 'spec.units', LIMITS.units, 1) ?? [];
  const deps: UnitDeps[] = [];
  const seen = new Set<string>();
  units.forEach((u, i) => {
    const d = validateUnit(c, u, `spec.units[${i}]`);
    if (!d) return;
    d.index = i;
    if (seen.has(d.name)) c.add(`spec.units[${i}].name`, `duplicate value '${d.name}'`);
    seen.add(d.name);
    deps.push(d);
  });
  for (const d of deps) {
    for (const key of ['after', 'requires'] as const) {
      d[key].forEach((n, j) => {
        if (!seen.has(n)) c.add(`spec.units[${d.index}].${key}[${j}]`, `unit '${n}' is not in spec.units`);
      });
    }
  }
  const cycle = findAfterCycle(deps);
  if (cycle) {
    const first = deps.find((d) => d.name === cycle[0]);
    c.add(`spec.units[${first?.index ?? 0}].after`, `ordering cycle: ${cycle.join(' -> ')}`);
  }

  const strategy = c.object(spec.updateStrategy, 'spec.updateStrategy', ['type', 'rollingUpdate']);
  if (strategy) {
    c.oneOf(strategy.type, 'spec.updateStrategy.type', ['RollingUpdate']);
    const ru = c.object(strategy.rollingUpdate, 'spec.updateStrategy.rollingUpdate', ['maxUnavailable']);
    const mu = ru?.maxUnavailable;
    if (mu !== undefined && mu !== null) {
      const ok = typeof mu === 'number' ? Number.isInteger(mu) && mu >= 1 : typeof mu === 'string' && RE.percent.test(mu);
      if (!ok) c.add('spec.updateStrategy.rollingUpdate.maxUnavailable', reason(MESSAGES.maxUnavailable));
    }
  }
  c.integer(spec.minReadySeconds, 'spec.minReadySeconds', 0, LIMITS.minReadySeconds);
  c.boolean(spec.paused, 'spec.paused');
  return c.issues;
}
