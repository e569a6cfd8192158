// Pure: a SystemdWorkload against the SystemdWorkloadPolicies that list its
// namespace -> the violations, each with its field and the message admission
// gives (config/policy/workload_policy.yaml evaluates the same rules in CEL;
// keep the two in step). The controller refuses to create or update children of
// a workload with violations (defence in depth: a workload admitted before a
// policy was tightened, or while the admission binding was missing).
//
// The root default without any policy (config/policy/workload_default_no_root.yaml)
// is admission's alone: it depends on a namespace label the controller does not
// watch. Here root is judged only by the policies that cover the namespace. So
// are files outside /etc/sdw (the label of workload_default_file_paths.yaml is
// admission's; allowedFilePaths is checked here too).
import type { ProtectHome, ProtectSystem, SystemdWorkload, SystemdWorkloadPolicy, UnitSpec } from '../api/types.js';
import type { FieldIssue } from '../api/errors.js';
import { parseQuantity, type Quantity } from '../api/quantity.js';
import { filePathAllowed, isOutsideFilesRoot } from '../api/filePaths.js';

export interface PolicyIssue extends FieldIssue {
  /** The SystemdWorkloadPolicy that refuses. */
  policy: string;
}

const ROOT = /^(root|0+)$/;
const PROTECT_SYSTEM: Record<ProtectSystem, number> = { false: 0, true: 1, full: 2, strict: 3 };
const PROTECT_HOME: Record<ProtectHome, number> = { false: 0, 'read-only': 1, tmpfs: 2, true: 3 };

/** Whether a unit runs as root: neither user nor dynamicUser, or user root/0. */
export function runsAsRootUser(u: UnitSpec): boolean {
  return u.user !== undefined ? ROOT.test(u.user) : !u.dynamicUser;
}

export function hasRootGroup(u: UnitSpec): boolean {
  return u.group !== undefined && ROOT.test(u.group);
}

/** The policies that list ns, in name order (the order of their messages). */
export function policiesCovering(ns: string, policies: readonly SystemdWorkloadPolicy[]): SystemdWorkloadPolicy[] {
  return policies
    .filter((p) => Array.isArray(p.spec?.namespaces) && p.spec.namespaces.includes(ns))
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** command[0] against allowedExecutables: an exact path, or a prefix ending in '/'; never a '.'/'..'/'//' path. */
export function executableAllowed(cmd: string, allowed: readonly string[]): boolean {
  if (cmd.includes('//') || /(^|\/)\.\.?(\/|$)/.test(cmd)) return false;
  return allowed.some((p) => (p.endsWith('/') ? cmd.startsWith(p) : cmd === p));
}

function cmp(a: Quantity, b: Quantity): number {
  const l = a.numerator * b.denominator;
  const r = b.numerator * a.denominator;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** a > b for quantities; an unparsable one counts as too large (admission refuses those anyway). */
function exceeds(value: string | number, max: string): boolean {
  try {
    return cmp(parseQuantity(value), parseQuantity(max)) > 0;
  } catch {
    return true;
  }
}

/**
 * Files outside /etc/sdw: strictly below an allowedFilePaths entry; none set: none
 * allowed (as allowRoot, the safe default; under /etc/sdw the CRD and the default
 * policy judge). The first file that breaks it, as admission reports.
 */
function filePathIssue(wl: SystemdWorkload, allowed: readonly string[], where: string): FieldIssue | undefined {
  const files = wl.spec.files ?? [];
  const i = files.findIndex((f) => isOutsideFilesRoot(f.path) && !filePathAllowed(f.path, allowed));
  if (i < 0) return undefined;
  return {
    field: `spec.files[${i}].path`,
    message: `'${files[i]!.path}' is not under an allowed file path${where} allows: ${allowed.length > 0 ? allowed.join(', ') : 'no path outside /etc/sdw'})`,
  };
}

/** Every violation of one policy (assumed to cover the workload's namespace). */
export function evaluatePolicy(wl: SystemdWorkload, policy: SystemdWorkloadPolicy): PolicyIssue[] {
  const ns = wl.metadata.namespace ?? '';
  const name = policy.metadata.name ?? '';
  const s = policy.spec;
  const where = ` in namespace ${ns} (SystemdWorkloadPolicy ${name}`;
  const out: PolicyIssue[] = [];
  const units = wl.spec.units ?? [];
  // One message per rule, for the first unit that breaks it (as admission reports).
  const first = (rule: (u: UnitSpec) => boolean, issue: (u: UnitSpec, i: number) => { field: string; message: string }): void => {
    const i = units.findIndex(rule);
    if (i >= 0) out.push({ ...issue(units[i]!, i), policy: name });
  };

  if (!s.allowRoot) {
    first(runsAsRootUser, (_u, i) => ({ field: `spec.units[${i}].user`, message: `root is not allowed${where})` }));
    first(hasRootGroup, (_u, i) => ({ field: `spec.units[${i}].group`, message: `root is not allowed${where})` }));
  }
  if (s.allowedUsers) {
    const allowed = s.allowedUsers;
    first(
      (u) => u.user !== undefined && !ROOT.test(u.user) && !allowed.includes(u.user),
      (u, i) => ({
        field: `spec.units[${i}].user`,
        message: `user '${u.user}' is not allowed${where} allows: ${[...allowed, 'dynamicUser'].join(', ')})`,
      }),
    );
  }
  if (s.allowedExecutables) {
    const allowed = s.allowedExecutables;
    first(
      (u) => !executableAllowed(u.command?.[0] ?? '', allowed),
      (u, i) => ({
        field: `spec.units[${i}].command[0]`,
        message: `'${u.command?.[0] ?? ''}' is not an allowed executable${where} allows: ${allowed.join(', ')})`,
      }),
    );
  }
  if (s.allowedNodeSelectors) {
    const sel = wl.spec.nodeSelector ?? {};
    const ok = s.allowedNodeSelectors.some((r) => r.key in sel && (r.values === undefined || r.values.includes(sel[r.key]!)));
    if (!ok) {
      const allowed = s.allowedNodeSelectors
        .map((r) => (r.values && r.values.length > 0 ? `${r.key}=${r.values.join('|')}` : r.key))
        .join(', ');
      out.push({ field: 'spec.nodeSelector', message: `must select nodes by an allowed label${where} allows: ${allowed})`, policy: name });
    }
  }
  const badFile = filePathIssue(wl, s.allowedFilePaths ?? [], where);
  if (badFile) out.push({ ...badFile, policy: name });
  const sb = s.requiredSandbox ?? {};
  if (sb.noNewPrivileges) {
    first(
      (u) => u.sandbox?.noNewPrivileges !== true,
      (_u, i) => ({ field: `spec.units[${i}].sandbox.noNewPrivileges`, message: `must be true${where})` }),
    );
  }
  if (sb.privateTmp) {
    first(
      (u) => u.sandbox?.privateTmp !== true,
      (_u, i) => ({ field: `spec.units[${i}].sandbox.privateTmp`, message: `must be true${where})` }),
    );
  }
  if (sb.protectSystem !== undefined) {
    const min = sb.protectSystem;
    first(
      (u) => PROTECT_SYSTEM[u.sandbox?.protectSystem ?? 'false'] < PROTECT_SYSTEM[min],
      (u, i) => ({
        field: `spec.units[${i}].sandbox.protectSystem`,
        message: `must be '${min}' or stricter, not '${u.sandbox?.protectSystem ?? 'false'}'${where})`,
      }),
    );
  }
  if (sb.protectHome !== undefined) {
    const min = sb.protectHome;
    first(
      (u) => PROTECT_HOME[u.sandbox?.protectHome ?? 'false'] < PROTECT_HOME[min],
      (u, i) => ({
        field: `spec.units[${i}].sandbox.protectHome`,
        message: `must be '${min}' or stricter, not '${u.sandbox?.protectHome ?? 'false'}'${where})`,
      }),
    );
  }
  const r = s.resources ?? {};
  const limit = (u: UnitSpec) => u.resources?.limits ?? {};
  const resource = (
    key: 'memory' | 'cpu' | 'tasks',
    max: string | number | undefined,
    over: (v: string | number, m: string | number) => boolean,
  ): void => {
    if (r.requireLimits || max !== undefined) {
      first(
        (u) => limit(u)[key] === undefined,
        (_u, i) => ({ field: `spec.units[${i}].resources.limits.${key}`, message: `is required${where})` }),
      );
    }
    if (max !== undefined) {
      first(
        (u) => limit(u)[key] !== undefined && over(limit(u)[key]!, max),
        (u, i) => ({
          field: `spec.units[${i}].resources.limits.${key}`,
          message: `${String(limit(u)[key])} exceeds the maximum ${String(max)}${where})`,
        }),
      );
    }
  };
  resource('memory', r.maxMemory, (v, m) => exceeds(v, String(m)));
  resource('cpu', r.maxCpu, (v, m) => exceeds(v, String(m)));
  resource('tasks', r.maxTasks, (v, m) => Number(v) > Number(m));
  return out;
}

/** The violations of every policy covering the workload's namespace. */
export function evaluatePolicies(wl: SystemdWorkload, policies: readonly SystemdWorkloadPolicy[]): PolicyIssue[] {
  return policiesCovering(wl.metadata.namespace ?? '', policies).flatMap((p) => evaluatePolicy(wl, p));
}

/** As admission prints them: "<field>: <message>" joined by "; ". */
export function formatPolicyIssues(issues: readonly PolicyIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}
