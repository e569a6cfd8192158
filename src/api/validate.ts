// validateWorkload: what admission checks, offline, for the controller (defence in
// depth, and for objects admitted by an older CRD) and for kubectl-sdw (files).
//
// The structural part is not restated here: checkSchema() interprets the CRD's
// own OpenAPI schema (schema.ts), the subset it uses: type, properties,
// required, additionalProperties, maxProperties, items, min/maxItems,
// list-type map/set, enum, pattern, min/maxLength, minimum/maximum,
// x-kubernetes-int-or-string. A new field or enum is written once, in schema.ts.
//
// What stays hand-written, and why:
// - The CEL rules (x-kubernetes-validations): a CEL interpreter is out of
//   proportion, so each rule has a TypeScript twin in CEL_TWINS, keyed by the
//   rule's message. checkSchema() throws on a rule without a twin, so a rule
//   added to the schema cannot be silently skipped offline (a unit test walks
//   the schema). Several twins say more than CEL can: the exact cron reason,
//   quantity parsing, ordering cycles of any length.
// - metadata: the API server checks names itself, not through our schema.
// - Time zones: the CEL rule asks the API server's tz database (Go's), the twin
//   this machine's (Intl, ICU's); they agree on IANA names.
import { API_VERSION, WORKLOAD_KIND } from './types.js';
import { FILES_ROOT, forbiddenPrefixOf, inFilesRoot } from './filePaths.js';
import { LIMITS, MESSAGES, PATTERNS, PATTERN_MESSAGES, workloadSchema, type JSONSchema } from './schema.js';
import { FieldError, type FieldIssue } from './errors.js';
import { NEVER_FIRES, parseCron } from './cron.js';
import { DNS_LABEL, DNS_SUBDOMAIN } from './names.js';
import { cpuMillis, memoryBytes } from './quantity.js';
import { ARTIFACT_MESSAGES } from './artifacts.js';

export type { FieldIssue } from './errors.js';

type Obj = Record<string, unknown>;
type Add = (field: string, message: string) => void;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A MESSAGES entry without its leading "<field>: " (the issue carries the field). */
function reason(message: string): string {
  return message.replace(/^[^ ]+: /, '');
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

// ---- the structural-schema interpreter ----

/** Checks v (not undefined) against schema s at path; reports through add. */
export function checkSchema(s: JSONSchema, v: unknown, path: string, add: Add): void {
  if (!checkScalar(s, v, path, add)) return;
  if (s.type === 'object' && isObj(v)) checkObject(s, v, path, add);
  if (s.type === 'array' && Array.isArray(v)) checkArray(s, v, path, add);
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    const twin = CEL_TWINS.get(rule.message ?? rule.rule);
    if (!twin) throw new Error(`no offline twin for the CEL rule at ${path || '<root>'}: ${rule.message ?? rule.rule}`);
    twin(v, path, add, rule.fieldPath);
  }
}

/** Type, enum, string and number bounds; false when v has the wrong type (nothing more to check). */
function checkScalar(s: JSONSchema, v: unknown, path: string, add: Add): boolean {
  if (s.enum) {
    if (!s.enum.includes(v)) {
      add(path, `must be one of ${s.enum.map((x) => JSON.stringify(x)).join(', ')}`);
      return false;
    }
    return true;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      add(path, 'must be an integer or a string');
      return false;
    }
  } else if (s.type && !hasType(s.type, v)) {
    add(path, `must be ${TYPE_NAMES[s.type]}`);
    return false;
  }
  if (typeof v === 'string') checkString(s, v, path, add);
  if (typeof v === 'number') {
    const { minimum: min, maximum: max } = s;
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      add(
        path,
        min !== undefined && max !== undefined
          ? `must be between ${min} and ${max}`
          : min !== undefined
            ? `must be at least ${min}`
            : `must be at most ${max}`,
      );
    }
  }
  return true;
}

const TYPE_NAMES: Record<NonNullable<JSONSchema['type']>, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
};

function hasType(type: NonNullable<JSONSchema['type']>, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObj(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
  }
}

function checkString(s: JSONSchema, v: string, path: string, add: Add): void {
  if (s.maxLength !== undefined && v.length > s.maxLength) add(path, `must be at most ${plural(s.maxLength, 'character')}`);
  if (s.minLength !== undefined && v.length < s.minLength) {
    add(path, s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`);
    return;
  }
  if (s.pattern !== undefined && !patternRegExp(s.pattern).test(v)) add(path, PATTERN_MESSAGES[s.pattern] ?? `must match ${s.pattern}`);
}

const compiled = new Map<string, RegExp>();
function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(pattern)));
  return re;
}

function checkObject(s: JSONSchema, v: Obj, path: string, add: Add): void {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  for (const k of s.required ?? []) if (v[k] === undefined || v[k] === null) add(at(k), 'is required');
  const keys = Object.keys(v);
  if (s.maxProperties !== undefined && keys.length > s.maxProperties)
    add(path, `must have at most ${plural(s.maxProperties, 'entry', 'entries')}`);
  const extra = s.additionalProperties;
  for (const k of keys) {
    const value = v[k];
    const prop = s.properties?.[k];
    if (prop) {
      if (value !== undefined && value !== null) checkSchema(prop, value, at(k), add);
    } else if (typeof extra === 'object') {
      checkSchema(extra, value, `${path}[${JSON.stringify(k)}]`, add);
    } else if (s.properties) {
      // An object with declared properties and no additionalProperties: the API
      // server's strict field validation (kubectl's default) refuses the rest.
      add(at(k), 'unknown field');
    }
  }
}

function checkArray(s: JSONSchema, v: unknown[], path: string, add: Add): void {
  if (s.minItems !== undefined && v.length < s.minItems) add(path, `must have at least ${plural(s.minItems, 'item')}`);
  if (s.maxItems !== undefined && v.length > s.maxItems) add(path, `must have at most ${plural(s.maxItems, 'item')}`);
  if (s.items) v.forEach((item, i) => checkSchema(s.items!, item, `${path}[${i}]`, add));
  const listType = s['x-kubernetes-list-type'];
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  if (listType !== 'set' && listType !== 'map') return;
  const seen = new Set<string>();
  v.forEach((item, i) => {
    const key = listType === 'set' ? item : isObj(item) ? item[mapKeys[0] ?? ''] : undefined;
    if (typeof key !== 'string') return;
    if (seen.has(key)) add(listType === 'set' ? `${path}[${i}]` : `${path}[${i}].${mapKeys[0]}`, `duplicate value '${key}'`);
    seen.add(key);
  });
}

// ---- the CEL rules' twins ----

/** A rule over self that holds or not; the interpreter reports it at path + fieldPath. */
type Twin = (self: unknown, path: string, add: Add, fieldPath?: string) => void;

/** A twin for a rule that is a plain predicate: reported with the rule's message at its fieldPath. */
const holds = (message: string, ok: (self: Obj) => boolean): [string, Twin] => [
  message,
  (self, path, add, fieldPath) => {
    if (isObj(self) && !ok(self)) add(`${path}${fieldPath ?? ''}`, reason(message));
  },
];

/** A quantity twin: the exact parse error rather than CEL's "greater than 0". */
const quantity = (message: string, parse: (q: string | number, field: string) => bigint): [string, Twin] => [
  message,
  (self, path, add) => {
    if (typeof self !== 'string' && typeof self !== 'number') return;
    try {
      parse(self, path);
    } catch (e) {
      if (e instanceof FieldError) add(path, e.reason);
      else throw e;
    }
  },
];

/** command[0] absolute, without '$' (a unit's command, an exec probe's). */
const argv0Absolute = (message: string): [string, Twin] => [
  message,
  (self, path, add) => {
    const argv0: unknown = Array.isArray(self) ? self[0] : undefined;
    if (typeof argv0 === 'string' && (!argv0.startsWith('/') || argv0.endsWith('/') || argv0.includes('$'))) {
      add(`${path}[0]`, reason(message));
    }
  },
];

const unitsOf = (self: unknown): Obj[] => (Array.isArray(self) ? self.filter(isObj) : []);
const namesIn = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

const CEL_TWINS = new Map<string, Twin>([
  [
    MESSAGES.workloadName,
    (self, _path, add) => {
      const name = isObj(self) && isObj(self.metadata) ? self.metadata.name : undefined;
      if (typeof name === 'string' && name.length > LIMITS.workloadNameLength) add('metadata.name', reason(MESSAGES.workloadName));
    },
  ],
  argv0Absolute(MESSAGES.commandPath),
  argv0Absolute(MESSAGES.probeCommandPath),
  holds(MESSAGES.probeHandler, (p) => ['exec', 'httpGet', 'tcpSocket'].filter((h) => p[h] !== undefined).length === 1),
  holds(
    MESSAGES.livenessSuccess,
    (u) => !isObj(u.livenessProbe) || u.livenessProbe.successThreshold === undefined || u.livenessProbe.successThreshold === 1,
  ),
  holds(
    MESSAGES.probeOneshot,
    (u) => (u.readinessProbe === undefined && u.livenessProbe === undefined) || (u.type !== 'oneshot' && u.schedule === undefined),
  ),
  quantity(MESSAGES.memory, memoryBytes),
  quantity(MESSAGES.cpuLimit, cpuMillis),
  quantity(MESSAGES.cpuRequest, cpuMillis),
  holds(MESSAGES.dynamicUser, (u) => !(u.dynamicUser === true && u.user !== undefined)),
  holds(MESSAGES.oneshotAlways, (u) => !(u.type === 'oneshot' && isObj(u.restart) && u.restart.policy === 'Always')),
  holds(
    MESSAGES.maxDelayBelowDelay,
    (u) =>
      !(
        isObj(u.restart) &&
        typeof u.restart.maxDelaySeconds === 'number' &&
        typeof u.restart.delaySeconds === 'number' &&
        u.restart.maxDelaySeconds < u.restart.delaySeconds
      ),
  ),
  holds(MESSAGES.timeZoneNeedsSchedule, (u) => u.timeZone === undefined || u.schedule !== undefined),
  holds(MESSAGES.afterSelf, (u) => !namesIn(u.after).includes(u.name as string)),
  holds(MESSAGES.requiresSelf, (u) => !namesIn(u.requires).includes(u.name as string)),
  holds(MESSAGES.tolerationExists, (t) => !(t.operator === 'Exists' && typeof t.value === 'string' && t.value !== '')),
  [
    MESSAGES.depsExist,
    (self, path, add) => {
      const units = unitsOf(self);
      const names = new Set(units.map((u) => u.name));
      units.forEach((u, i) => {
        for (const key of ['after', 'requires'] as const) {
          namesIn(u[key]).forEach((n, j) => {
            if (!names.has(n)) add(`${path}[${i}].${key}[${j}]`, `${reason(MESSAGES.depsExist)} (unit '${n}' is not in spec.units)`);
          });
        }
      });
    },
  ],
  // CEL sees two-unit cycles only; the twin finds cycles of any length.
  [
    MESSAGES.afterTwoCycle,
    (self, path, add) => {
      const units = unitsOf(self).filter((u): u is Obj & { name: string } => typeof u.name === 'string');
      const cycle = findAfterCycle(units.map((u) => ({ name: u.name, after: namesIn(u.after) })));
      if (cycle) add(`${path}[${units.findIndex((u) => u.name === cycle[0])}].after`, `ordering cycle: ${cycle.join(' -> ')}`);
    },
  ],
  // The schedule's two rules share parseCron: the pattern's twin reports every
  // reason but "never fires", which is the never-fires rule's.
  [MESSAGES.schedule, (self, path, add) => cronReason(self, path, add, false)],
  [MESSAGES.scheduleFires, (self, path, add) => cronReason(self, path, add, true)],
  [
    MESSAGES.timeZoneKnown,
    (self, path, add) => {
      if (typeof self === 'string' && !knownTimeZone(self)) add(path, `unknown time zone '${self}'`);
    },
  ],
  // ---- files (issue 15) ----
  holds(MESSAGES.fileSource, (f) => [f.content, f.configMapKeyRef, f.secretKeyRef].filter((x) => x !== undefined).length === 1),
  holds(MESSAGES.envValueOrFrom, (e) => !(typeof e.value === 'string' && e.value !== '' && e.valueFrom !== undefined)),
  holds(MESSAGES.envValueFromOne, (v) => (v.configMapKeyRef === undefined) !== (v.secretKeyRef === undefined)),
  holds(MESSAGES.reloadOne, (r) => (r.signal === undefined) !== (r.command === undefined)),
  holds(
    MESSAGES.reloadNeeded,
    (u) => u.reload !== undefined || !(Array.isArray(u.files) && u.files.some((r) => isObj(r) && r.changeMode === 'reload')),
  ),
  [
    MESSAGES.filePathUnique,
    (self, path, add) => {
      const seen = new Set<unknown>();
      unitsOf(self).forEach((f, i) => {
        if (seen.has(f.path)) add(`${path}[${i}].path`, `${reason(MESSAGES.filePathUnique)} ('${String(f.path)}')`);
        seen.add(f.path);
      });
    },
  ],
  // CEL sees the workload's name only; the twin checks the namespace component too
  // (at admission config/policy/workload_default_file_paths.yaml does).
  [
    MESSAGES.filePathOwned,
    (self, _path, add) => {
      if (!isObj(self) || !isObj(self.metadata) || !isObj(self.spec)) return;
      const name = typeof self.metadata.name === 'string' ? self.metadata.name : '';
      const namespace = typeof self.metadata.namespace === 'string' ? self.metadata.namespace : undefined;
      unitsOf(self.spec.files).forEach((f, i) => {
        if (typeof f.path !== 'string' || !inFilesRoot(f.path)) return;
        const parts = f.path.split('/');
        const nsOk = namespace === undefined || parts[3] === namespace;
        if (!(parts.length >= 6 && parts[4] === name && nsOk)) {
          add(
            `spec.files[${i}].path`,
            `a path under ${FILES_ROOT} must be under ${FILES_ROOT}/${String(namespace ?? '<namespace>')}/${String(name)}/, the directory the operator owns for this workload (never another workload's)`,
          );
        }
      });
    },
  ],
  holds(MESSAGES.filePathForbidden, (f) => typeof f.path !== 'string' || forbiddenPrefixOf(f.path) === undefined),
  [
    MESSAGES.fileRefsExist,
    (self, path, add) => {
      if (!isObj(self)) return;
      const declared = new Set(unitsOf(self.files).map((f) => f.name));
      unitsOf(self.units).forEach((u, i) =>
        unitsOf(u.files).forEach((r, j) => {
          if (!declared.has(r.name))
            add(`${path}.units[${i}].files[${j}].name`, `${reason(MESSAGES.fileRefsExist)} ('${String(r.name)}' is not declared)`);
        }),
      );
    },
  ],
  [
    MESSAGES.maxUnavailable,
    (self, path, add) => {
      const ok = typeof self === 'number' ? self >= 1 : typeof self === 'string' && new RegExp(PATTERNS.maxUnavailablePercent).test(self);
      if (!ok) add(path, reason(MESSAGES.maxUnavailable));
    },
  ],
  // Artifacts (artifacts.ts): CEL's url() and quantity(), and the references from units.
  [
    ARTIFACT_MESSAGES.url,
    (self, path, add) => {
      if (typeof self === 'string' && !isHttpUrl(self)) add(path, reason(ARTIFACT_MESSAGES.url));
    },
  ],
  quantity(ARTIFACT_MESSAGES.maxSize, memoryBytes),
  [
    ARTIFACT_MESSAGES.refsExist,
    (self, path, add) => {
      if (!isObj(self)) return;
      const declared = new Set(unitsOf(self.artifacts).map((a) => a.name));
      unitsOf(self.units).forEach((u, i) =>
        namesIn(u.artifacts).forEach((n, j) => {
          if (!declared.has(n))
            add(`${path}.units[${i}].artifacts[${j}]`, `${reason(ARTIFACT_MESSAGES.refsExist)} (artifact '${n}' is not declared)`);
        }),
      );
    },
  ],
]);

function cronReason(self: unknown, path: string, add: Add, neverFires: boolean): void {
  if (typeof self !== 'string') return;
  try {
    parseCron(self, path);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    if (e.reason.startsWith(NEVER_FIRES) === neverFires) add(e.field, e.reason);
  }
}

/** The CEL rules (by message) that have a twin: a unit test checks every rule of the workload schema is one. */
export const CEL_RULES_WITH_TWINS: ReadonlySet<string> = new Set(CEL_TWINS.keys());

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

// ---- beyond the schema ----

/** Names: the API server checks them itself (they are not in our schema). */
function checkMetadata(meta: unknown, add: Add): void {
  if (!isObj(meta)) {
    add('metadata', 'is required');
    return;
  }
  const { name, namespace } = meta;
  if (typeof name !== 'string' || name === '') add('metadata.name', 'is required');
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) add('metadata.name', 'must be a lowercase DNS subdomain');
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    add('metadata.namespace', 'must be a lowercase DNS label');
  }
}

/** What CEL's isURL(self) && url(self).getScheme() in ['http', 'https'] && getHostname() != '' accepts. */
function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function knownTimeZone(tz: string): boolean {
  try {
    // Intl matches names case-insensitively; Go and systemd look the file up, case-sensitively.
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Validates a SystemdWorkload (any JSON value). Returns every problem found, each
 * with a field path (spec.units[0].command[0]) and a message; [] means valid.
 */
export function validateWorkload(obj: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const add: Add = (field, message) => issues.push({ field, message });
  if (!isObj(obj)) {
    add('', 'must be a SystemdWorkload object');
    return issues;
  }
  if (obj.apiVersion !== API_VERSION) add('apiVersion', `must be ${API_VERSION}`);
  if (obj.kind !== WORKLOAD_KIND) add('kind', `must be ${WORKLOAD_KIND}`);
  checkMetadata(obj.metadata, add);
  // status is the controller's; a manifest's status is ignored, as the API server ignores it on create.
  checkSchema(workloadSchema, { ...obj, status: undefined }, '', add);
  return issues;
}
