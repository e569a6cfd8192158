// The API's defaults that both sides need: the renderer writes them into the
// child spec and the unit files, and the agent applies them to a child written
// before the field existed.
import type { Probe, RestartPolicy, UnitSpec, UnitType } from './types.js';

/** The restart policy of a unit that names none: services (notify ones too) restart, oneshots and scheduled units do not. */
export function defaultRestartPolicy(type: UnitType, scheduled: boolean): RestartPolicy {
  return type !== 'oneshot' && !scheduled ? 'Always' : 'Never';
}

/** The restart policy in effect for a unit. */
export function effectiveRestartPolicy(u: UnitSpec): RestartPolicy {
  return u.restart?.policy ?? defaultRestartPolicy(u.type ?? 'service', u.schedule !== undefined);
}

/** The cap of the agent's crash-loop back-off when restart.maxDelaySeconds is unset: 5 minutes, as Kubernetes. */
export const DEFAULT_MAX_RESTART_DELAY_SECONDS = 300;

/** A Pod's probe defaults. */
export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  failureThreshold: 3,
  successThreshold: 1,
} as const;

/** A probe with every default written out, so the child spec (and its hash) says exactly what the agent runs. */
export function probeWithDefaults(p: Probe): Probe {
  const handler: Probe = p.exec
    ? { exec: { command: [...p.exec.command] } }
    : p.httpGet
      ? { httpGet: { host: '127.0.0.1', path: '/', scheme: 'HTTP', ...p.httpGet } }
      : { tcpSocket: { host: '127.0.0.1', ...p.tcpSocket! } };
  return {
    ...handler,
    initialDelaySeconds: p.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds,
    periodSeconds: p.periodSeconds ?? PROBE_DEFAULTS.periodSeconds,
    timeoutSeconds: p.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    failureThreshold: p.failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
    successThreshold: p.successThreshold ?? PROBE_DEFAULTS.successThreshold,
  };
}
