// render(workload, node) -> the exact unit files of one node: pure, deterministic.
//
// Per workload unit: sdw-<ns>_<workload>_<unit>.service, plus a .timer when the
// unit has a schedule (then the timer is enabled, WantedBy=timers.target, and the
// service has no [Install]). Both files carry
//   X-SDW-Owner=<namespace>/<workload>   the agent only touches files it owns
//   X-SDW-Hash=<sha256>                  over the unit's files minus these lines
// in [Unit]; systemd ignores X- keys there.
//
// Defaults: type service; restart policy Always for an unscheduled service, Never
// otherwise (oneshot with Always is rejected: systemd refuses it).
// Crash loops: systemd's defaults (StartLimitBurst=5 in StartLimitIntervalSec=10s)
// put a crash-looping unit in "failed" only if it restarts faster than every 2s;
// with RestartSec=d that never happens for d >= 2.5s and the unit would restart
// forever. So when restart.delaySeconds is set (and the policy restarts) we emit
// StartLimitBurst=5 and StartLimitIntervalSec=5*d+10s: five quick failures in a
// row still end in "failed", as with systemd's defaults. Without a delay we leave
// systemd's defaults (RestartSec=100ms, 5 in 10s).
import type { ArtifactSpec, RenderedUnit, SystemdUnitSetSpec, SystemdWorkload, UnitSpec } from '../api/types.js';
import { InvalidWorkloadError } from '../api/errors.js';
import { HASH_KEY, OWNER_KEY } from '../api/markers.js';
import { unitFileName } from '../api/names.js';
import { cpuMillis, memoryBytes } from '../api/quantity.js';
import { validateWorkload } from '../api/validate.js';
import { DEFAULT_MAX_RESTART_DELAY_SECONDS, effectiveRestartPolicy } from '../api/defaults.js';
import { unitProbes } from './probes.js';
import { environmentAssignment, escapeSpecifiers, execCommandLine, quotePathList } from './escape.js';
import { cronToOnCalendar } from './calendar.js';
import { sha256Hex, specHash, unitFilesHash } from './hash.js';
import { renderFiles, type SourceResolver } from './files.js';
import { artifactDirectives, childArtifacts } from './artifacts.js';

export const START_LIMIT_BURST = 5;

const RESTART: Record<string, string> = { Always: 'always', OnFailure: 'on-failure', Never: 'no' };
const YES_NO = (b: boolean) => (b ? 'yes' : 'no');
const TRISTATE: Record<string, string> = { false: 'no', true: 'yes' };

function section(name: string, lines: string[]): string {
  return `[${name}]\n${lines.join('\n')}\n`;
}

interface Ctx {
  namespace: string;
  workload: string;
  /** The unit's file lines (files.ts): X-SDW-File-* in [Unit]; EnvironmentFile=, LoadCredential= in [Service]. */
  fileLines?: { unit: string[]; service: string[] };
  /** The workload's restart stamp (see RenderOptions). */
  restartedAt?: string;
  /** The workload's artifacts, for the units that use them. */
  artifacts?: readonly ArtifactSpec[];
}

export interface RenderOptions {
  /**
   * The restart stamp (`kubectl sdw rollout restart`): written into every
   * service file as X-SDW-Restarted-At=, so a new stamp changes the files and
   * the agents restart the units. A value that is not a plain timestamp is
   * written as its digest: nothing from an annotation reaches a file unchecked.
   */
  restartedAt?: string;
  /** The ConfigMaps and Secrets that spec.files and env[].valueFrom name; without it they render unresolved. */
  sources?: SourceResolver;
  /** spec.artifacts: units[].artifacts render their digests and paths from it. */
  artifacts?: readonly ArtifactSpec[];
}

export const RESTARTED_AT_KEY = 'X-SDW-Restarted-At';

/** The stamp as written: itself when it is a plain timestamp-like token, else a digest of it. */
export function restartStampValue(stamp: string): string {
  return /^[0-9A-Za-z:.+_-]{1,64}$/.test(stamp) ? stamp : `sha256-${sha256Hex(stamp).slice(0, 16)}`;
}

function renderService(ctx: Ctx, u: UnitSpec, p: string): string {
  const type = u.type ?? 'service';
  const scheduled = u.schedule !== undefined;
  const unitLines = [
    `Description=${escapeSpecifiers(`SystemdWorkload ${ctx.namespace}/${ctx.workload} unit ${u.name}`)}`,
    `${OWNER_KEY}=${ctx.namespace}/${ctx.workload}`,
  ];
  const sibling = (n: string) => unitFileName(ctx.namespace, ctx.workload, n, 'service');
  if (u.after?.length) unitLines.push(`After=${u.after.map(sibling).join(' ')}`);
  if (u.requires?.length) unitLines.push(`Requires=${u.requires.map(sibling).join(' ')}`);
  if (ctx.restartedAt !== undefined) unitLines.push(`${RESTARTED_AT_KEY}=${restartStampValue(ctx.restartedAt)}`);
  unitLines.push(...(ctx.fileLines?.unit ?? []));
  const artifacts = artifactDirectives(ctx, u, p);
  unitLines.push(...artifacts.unit);

  const policy = effectiveRestartPolicy(u);
  const delay = u.restart?.delaySeconds;
  if (policy !== 'Never' && delay !== undefined) {
    unitLines.push(`StartLimitIntervalSec=${START_LIMIT_BURST * delay + 10}s`, `StartLimitBurst=${START_LIMIT_BURST}`);
  }

  const svc: string[] = [];
  if (type === 'oneshot') {
    svc.push('Type=oneshot');
    if (!scheduled) svc.push('RemainAfterExit=yes');
  } else if (type === 'notify') {
    // NotifyAccess=all: a wrapper script's systemd-notify (a child of the main
    // process) may send READY=1, not only the main process itself.
    svc.push('Type=notify', 'NotifyAccess=all');
  } else {
    // exec, not simple: a missing binary or a bad User= fails the start job
    // instead of a unit reported "running" for an instant before it dies.
    svc.push('Type=exec');
  }
  svc.push(`ExecStart=${execCommandLine(u.command, `${p}.command`)}`);
  u.env?.forEach((e, i) => {
    if (!e.valueFrom) svc.push(`Environment=${environmentAssignment(e.name, e.value ?? '', `${p}.env[${i}]`)}`);
  });
  svc.push(...artifacts.service);
  svc.push(...(ctx.fileLines?.service ?? []));
  if (u.reload?.signal) svc.push(`ExecReload=/bin/kill -${u.reload.signal} $MAINPID`);
  else if (u.reload?.command) svc.push(`ExecReload=${execCommandLine(u.reload.command, `${p}.reload.command`)}`);
  if (u.dynamicUser) svc.push('DynamicUser=yes');
  if (u.user !== undefined) svc.push(`User=${escapeSpecifiers(u.user, `${p}.user`)}`);
  if (u.group !== undefined) svc.push(`Group=${escapeSpecifiers(u.group, `${p}.group`)}`);
  if (u.workingDirectory !== undefined) svc.push(`WorkingDirectory=${escapeSpecifiers(u.workingDirectory, `${p}.workingDirectory`)}`);
  svc.push(`Restart=${RESTART[policy]}`);
  if (policy !== 'Never' && delay !== undefined) svc.push(`RestartSec=${delay}s`);

  const limits = u.resources?.limits;
  if (limits?.memory !== undefined) svc.push(`MemoryMax=${memoryBytes(limits.memory, `${p}.resources.limits.memory`)}`);
  if (limits?.cpu !== undefined) svc.push(`CPUQuota=${cpuQuotaPercent(cpuMillis(limits.cpu, `${p}.resources.limits.cpu`))}`);
  const req = u.resources?.requests;
  if (req?.cpu !== undefined) svc.push(`CPUWeight=${cpuWeight(cpuMillis(req.cpu, `${p}.resources.requests.cpu`))}`);
  if (limits?.tasks !== undefined) svc.push(`TasksMax=${limits.tasks}`);

  const sb = u.sandbox;
  if (sb?.privateTmp !== undefined) svc.push(`PrivateTmp=${YES_NO(sb.privateTmp)}`);
  if (sb?.protectSystem !== undefined) svc.push(`ProtectSystem=${TRISTATE[sb.protectSystem] ?? sb.protectSystem}`);
  if (sb?.protectHome !== undefined) svc.push(`ProtectHome=${TRISTATE[sb.protectHome] ?? sb.protectHome}`);
  if (sb?.noNewPrivileges !== undefined) svc.push(`NoNewPrivileges=${YES_NO(sb.noNewPrivileges)}`);
  if (sb?.readOnlyPaths?.length) svc.push(`ReadOnlyPaths=${quotePathList(sb.readOnlyPaths, `${p}.sandbox.readOnlyPaths`)}`);
  if (sb?.readWritePaths?.length) svc.push(`ReadWritePaths=${quotePathList(sb.readWritePaths, `${p}.sandbox.readWritePaths`)}`);

  const parts = [section('Unit', unitLines), section('Service', svc)];
  if (!scheduled) parts.push(section('Install', ['WantedBy=multi-user.target']));
  return parts.join('\n');
}

function renderTimer(ctx: Ctx, u: UnitSpec, p: string, service: string): string {
  const calendars = cronToOnCalendar(u.schedule as string, u.timeZone, `${p}.schedule`);
  return [
    section('Unit', [
      `Description=${escapeSpecifiers(`Schedule of SystemdWorkload ${ctx.namespace}/${ctx.workload} unit ${u.name}`)}`,
      `${OWNER_KEY}=${ctx.namespace}/${ctx.workload}`,
    ]),
    section('Timer', [...calendars.map((c) => `OnCalendar=${c}`), 'Persistent=true', 'AccuracySec=1s', `Unit=${service}`]),
    section('Install', ['WantedBy=timers.target']),
  ].join('\n');
}

const HEADER = '# Managed by systemd-workload-operator; local changes are overwritten.\n';

/** Inserts X-SDW-Hash=<hash> right after the X-SDW-Owner line. */
function withHash(content: string, hash: string): string {
  return content.replace(new RegExp(`^(${OWNER_KEY}=.*)$`, 'm'), `$1\n${HASH_KEY}=${hash}`);
}

/** The files of one workload unit (validated input assumed; still throws FieldError on unsafe strings). */
export function renderUnitFiles(
  namespace: string,
  workload: string,
  u: UnitSpec,
  field = 'unit',
  opts: RenderOptions = {},
  fileLines?: Ctx['fileLines'],
): RenderedUnit[] {
  const ctx: Ctx = {
    namespace,
    workload,
    fileLines,
    ...(opts.restartedAt !== undefined ? { restartedAt: opts.restartedAt } : {}),
    ...(opts.artifacts ? { artifacts: opts.artifacts } : {}),
  };
  const service = unitFileName(namespace, workload, u.name, 'service');
  const files: RenderedUnit[] = [{ name: service, content: HEADER + renderService(ctx, u, field) }];
  if (u.schedule !== undefined) {
    files.push({ name: unitFileName(namespace, workload, u.name, 'timer'), content: HEADER + renderTimer(ctx, u, field, service) });
  }
  const hash = unitFilesHash(files);
  return files.map((f) => ({ name: f.name, content: withHash(f.content, hash) }));
}

/**
 * Renders a workload for one node into the spec of its SystemdUnitSet. Throws
 * InvalidWorkloadError (with every issue validateWorkload finds) on invalid input.
 * The result does not depend on nodeName beyond spec.nodeName, so hash is the
 * same on every node and the rollout can compare it across nodes (the controller
 * renders once with nodeName '' and sets nodeName per child).
 */
export function render(workload: SystemdWorkload, nodeName: string, opts: RenderOptions = {}): SystemdUnitSetSpec {
  return renderWithPayloads(workload, nodeName, opts).spec;
}

/**
 * render(), and the plaintext of every secret value the spec's files need, by
 * digest: the controller seals them per node; they are never stored.
 */
export function renderWithPayloads(
  workload: SystemdWorkload,
  nodeName: string,
  opts: RenderOptions = {},
): { spec: SystemdUnitSetSpec; payloads: Map<string, Buffer> } {
  const issues = validateWorkload(workload);
  const namespace = workload?.metadata?.namespace;
  if (namespace === undefined || namespace === '') issues.push({ field: 'metadata.namespace', message: 'is required' });
  if (typeof nodeName !== 'string') issues.push({ field: 'nodeName', message: 'must be a string' });
  if (issues.length > 0) throw new InvalidWorkloadError(issues);
  const name = workload.metadata.name as string;
  const rendered = renderFiles(workload, opts.sources);
  const seen = new Set<string>();
  for (const f of rendered.files) {
    if (seen.has(f.path)) throw new InvalidWorkloadError([{ field: 'spec.files', message: `two files at ${f.path}` }]);
    seen.add(f.path);
  }
  const units = workload.spec.units.map((u, i) => ({
    name: u.name,
    type: u.type ?? 'service',
    scheduled: u.schedule !== undefined,
    restart: effectiveRestartPolicy(u),
    backOff: {
      delaySeconds: u.restart?.delaySeconds ?? 0,
      maxDelaySeconds: u.restart?.maxDelaySeconds ?? DEFAULT_MAX_RESTART_DELAY_SECONDS,
    },
    files: renderUnitFiles(
      namespace as string,
      name,
      u,
      `spec.units[${i}]`,
      { ...opts, artifacts: workload.spec.artifacts },
      rendered.unitLines.get(u.name),
    ),
    ...unitProbes(u, unitFileName(namespace as string, name, u.name)),
  }));
  const files = rendered.files;
  const artifacts = childArtifacts(workload.spec.artifacts);
  // Without files the hash is what it always was; with them it also covers each
  // file's mode, owner and digest (a file no unit uses still rolls out).
  const hash = specHash(
    [
      ...units.flatMap((u) => u.files),
      ...files.map((f) => ({ name: `file:${f.path}`, content: `${f.mode} ${f.owner ?? ''}:${f.group ?? ''} ${f.digest}` })),
    ],
    units.map(({ name: unit, readinessProbe, livenessProbe, runAs }) => ({ unit, readinessProbe, livenessProbe, runAs })),
    artifacts,
  );
  const spec: SystemdUnitSetSpec = {
    nodeName,
    units,
    ...(files.length ? { files } : {}),
    ...(artifacts ? { artifacts } : {}),
    hash,
    shortHash: hash.slice(0, 12),
  };
  return { spec, payloads: rendered.payloads };
}

/** CPUQuota= for a CPU limit: 1 CPU = 100% (500m -> "50%", 2 -> "200%", 1m -> "0.1%"). */
export function cpuQuotaPercent(millis: bigint): string {
  const whole = millis / 10n;
  const tenth = millis % 10n;
  return tenth === 0n ? `${whole}%` : `${whole}.${tenth}%`;
}

/**
 * CPUWeight= for a CPU request, relative to systemd's default weight 100 = 1 CPU
 * (as Kubernetes maps 1 CPU to 1024 cpu.shares): round(millis / 10), clamped 1..10000.
 */
export function cpuWeight(millis: bigint): number {
  const w = Number((millis + 5n) / 10n);
  return Math.min(10000, Math.max(1, w));
}
