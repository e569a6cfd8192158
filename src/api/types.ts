// The API of systemd-workload-operator: SystemdWorkload (user-owned spec,
// controller-owned status) and its per-node child SystemdUnitSet (controller-owned
// spec, agent-owned status). The CRD schema in schema.ts is the one source of the
// API; these types are what the TypeScript code sees, and
// test/unit/api/types-match-schema.test.ts fails on any difference between them.

export const GROUP = 'systemd.operators.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const WORKLOAD_KIND = 'SystemdWorkload';
export const WORKLOAD_PLURAL = 'systemdworkloads';
export const UNITSET_KIND = 'SystemdUnitSet';
export const UNITSET_PLURAL = 'systemdunitsets';

/** Labels and annotations the controller puts on children. */
export const LABEL_NODE = `${GROUP}/node`;
export const LABEL_WORKLOAD = `${GROUP}/workload`;
export const LABEL_WORKLOAD_UID = `${GROUP}/workload-uid`;
/** On a ControllerRevision: the short hash of the rendered units it restores (its name's suffix). */
export const LABEL_REVISION_HASH = `${GROUP}/revision-hash`;
/**
 * Set on a workload by `kubectl sdw rollout restart` (as `kubectl rollout restart`
 * sets kubectl.kubernetes.io/restartedAt): a new value restarts every unit,
 * node by node under maxUnavailable, with no spec change.
 */
export const ANNOTATION_RESTARTED_AT = `${GROUP}/restartedAt`;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
}

export type UnitType = 'service' | 'notify' | 'oneshot';
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface EnvVar {
  name: string;
  value?: string;
  /** From a ConfigMap or Secret key: written to the unit's EnvironmentFile, never into the unit file. */
  valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef };
}

// ---- files (issue 15) ----
/** A key of a ConfigMap or Secret in the workload's namespace. */
export interface KeyRef {
  name: string;
  key: string;
}

/** A file delivered beside the units, under /etc/sdw/<namespace>/<workload>/. */
export interface WorkloadFile {
  name: string;
  path: string;
  /** Octal string; default 0644, 0600 for a Secret. */
  mode?: string;
  content?: string;
  configMapKeyRef?: KeyRef;
  secretKeyRef?: KeyRef;
}

export type ChangeMode = 'restart' | 'reload' | 'none';

/** A file a unit uses, and what a change of it does to the unit. */
export interface UnitFileRef {
  name: string;
  changeMode?: ChangeMode;
}

/** A file as the agent writes it: resolved by the controller, secrets sealed for the node. */
export interface DeliveredFile {
  path: string;
  mode: string;
  owner?: string;
  group?: string;
  source?: string;
  digest: string;
  content?: string;
  sealed?: string;
  sealedFor?: string;
}

export interface UnitSpec {
  /**
   * DNS label, at most 40 characters; the systemd unit is named
   * sdw-<namespace>_<workload>_<name>.service ("_" cannot occur in any of the
   * three, so the name is unambiguous; see src/api/names.ts).
   */
  name: string;
  type?: UnitType; // default service
  /** argv: command[0] is an absolute path. */
  command: string[];
  env?: EnvVar[];
  user?: string;
  group?: string;
  dynamicUser?: boolean;
  workingDirectory?: string;
  restart?: { policy?: RestartPolicy; delaySeconds?: number; maxDelaySeconds?: number };
  resources?: {
    limits?: { memory?: string | number; cpu?: string | number; tasks?: number };
    requests?: { cpu?: string | number };
  };
  /** Names of other units in the same workload. */
  after?: string[];
  requires?: string[];
  /** Five-field cron expression: the unit runs from a timer instead of continuously. */
  schedule?: string;
  /** IANA time zone for schedule; default the node's local time. */
  timeZone?: string;
  /** Files of spec.files this unit uses. */
  files?: UnitFileRef[];
  /** ExecReload=: a signal to the main process, or a command. */
  reload?: { signal?: 'HUP' | 'USR1' | 'USR2'; command?: string[] };
  sandbox?: {
    privateTmp?: boolean;
    protectSystem?: 'false' | 'true' | 'full' | 'strict';
    protectHome?: 'false' | 'true' | 'read-only' | 'tmpfs';
    noNewPrivileges?: boolean;
    readOnlyPaths?: string[];
    readWritePaths?: string[];
  };
  /** Names of spec.artifacts this unit runs from (their digests are part of its hash). */
  artifacts?: string[];
  /** Ready = active and this holds (defaults: src/api/defaults.ts). */
  readinessProbe?: Probe;
  /** failureThreshold failures in a row restart the unit. */
  livenessProbe?: Probe;
}

/** An artifact (src/api/artifacts.ts): a file at an http(s) URL, verified by sha256, optionally unpacked. */
export interface ArtifactSpec {
  name: string;
  url: string;
  sha256: string;
  unpack?: 'tar.gz' | 'zip';
  /** Quantity; default 1Gi. */
  maxSize?: string | number;
  /** Default 300. */
  timeoutSeconds?: number;
}

/** An artifact as the agent stages it: defaults applied, sizes in bytes. */
export interface ChildArtifact {
  name: string;
  url: string;
  sha256: string;
  unpack?: 'tar.gz' | 'zip';
  fileName: string;
  maxSizeBytes: number;
  timeoutSeconds: number;
}

/** A probe, as a Pod's: exactly one of exec, httpGet, tcpSocket (src/agent/probes.ts runs it). */
export interface Probe {
  /** Run as the unit's user, in a transient unit; exit 0 is success. */
  exec?: { command: string[] };
  /** Status 200-399 is success. host default 127.0.0.1, path '/', scheme HTTP. */
  httpGet?: { port: number; path?: string; host?: string; scheme?: 'HTTP' | 'HTTPS' };
  /** An accepted connection is success. host default 127.0.0.1. */
  tcpSocket?: { port: number; host?: string };
  initialDelaySeconds?: number; // default 0
  periodSeconds?: number; // default 10
  timeoutSeconds?: number; // default 1
  failureThreshold?: number; // default 3
  successThreshold?: number; // default 1 (must be 1 for liveness)
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: '' | 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface SystemdWorkloadSpec {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  units: UnitSpec[];
  /** Files delivered beside the units. */
  files?: WorkloadFile[];
  /** Files fetched by each node's agent before its units change (src/api/artifacts.ts). */
  artifacts?: ArtifactSpec[];
  updateStrategy?: {
    type?: 'RollingUpdate';
    rollingUpdate?: {
      maxUnavailable?: number | string;
      /** A new revision that fails on a node returns the updated nodes to the last revision healthy everywhere. */
      autoRevert?: boolean;
      /** Nodes kept on the old version until promoted (canary hold). */
      partition?: number;
      /** Update node groups (by a node label's value) one after another. */
      nodeOrder?: { labelKey: string };
    };
  };
  minReadySeconds?: number;
  /** Seconds without progress before the workload reads Stalled (ProgressDeadlineExceeded); default 600. */
  progressDeadlineSeconds?: number;
  paused?: boolean;
  /** Old ControllerRevisions kept for rollback (default 10). */
  revisionHistoryLimit?: number;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type WorkloadPhase = 'Pending' | 'Progressing' | 'Running' | 'Completed' | 'Degraded' | 'Failed';
/** A node's phase for one workload, as reported by its agent (Unknown: agent silent). */
export type NodePhase = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Unknown';

export interface NodeSummary {
  node: string;
  phase: NodePhase;
  restarts: number;
  exitCode?: number;
  memoryBytes?: number;
  cpuSeconds?: number;
  message?: string;
}

/** When a rollout last made progress, and how far it had got then. */
export interface ProgressMark {
  time: string;
  updatedNodes: number;
  readyNodes: number;
}

export interface SystemdWorkloadStatus {
  observedGeneration?: number;
  /** The content hash of the current spec's units (what a finished rollout has everywhere). */
  hash?: string;
  desiredNodes?: number;
  currentNodes?: number;
  readyNodes?: number;
  updatedNodes?: number;
  failedNodes?: number;
  unknownNodes?: number;
  restarts?: number;
  phase?: WorkloadPhase;
  conditions?: Condition[];
  /** The rollout's last progress: the progress deadline counts from it, and only more nodes than these is progress. */
  lastProgress?: ProgressMark;
  nodes?: NodeSummary[];
  /** The ControllerRevision every node ran when a rollout last completed (the one auto-revert returns to). */
  currentRevision?: string;
  /** The ControllerRevision of the current spec's units. */
  updateRevision?: string;
  /** The revision number of updateRevision. */
  updateRevisionNumber?: number;
}

/** What a ControllerRevision of a workload holds: enough to render its units again, and to patch the spec back. */
export interface WorkloadRevisionData {
  /** files: their declarations (inline content, ConfigMap and Secret key refs), never a Secret's value. */
  spec: { units: UnitSpec[]; artifacts?: ArtifactSpec[]; files?: WorkloadFile[] };
}

/** apps/v1 ControllerRevision, as the controller writes it for a workload. */
export interface ControllerRevision {
  apiVersion: 'apps/v1';
  kind: 'ControllerRevision';
  metadata: ObjectMeta;
  data: WorkloadRevisionData;
  revision: number;
}

export interface SystemdWorkload {
  apiVersion: typeof API_VERSION;
  kind: typeof WORKLOAD_KIND;
  metadata: ObjectMeta;
  spec: SystemdWorkloadSpec;
  status?: SystemdWorkloadStatus;
}

/** One rendered file: a .service or a .timer, with its exact content. */
export interface RenderedUnit {
  /** Full unit file name, e.g. sdw-default_web_server.service */
  name: string;
  content: string;
}

export interface SystemdUnitSetSpec {
  nodeName: string;
  /** The workload unit names, in order, each with its files (service, and timer if scheduled). */
  units: Array<{
    name: string;
    type: UnitType;
    scheduled: boolean;
    files: RenderedUnit[];
    /** The restart policy in effect (defaults applied), so the agent need not read it from the files. */
    restart?: RestartPolicy;
    /** The agent's crash-loop back-off (restart.delaySeconds, restart.maxDelaySeconds with defaults applied). */
    backOff?: { delaySeconds: number; maxDelaySeconds: number };
    /** The unit's probes with their defaults applied (the agent runs them). */
    readinessProbe?: Probe;
    livenessProbe?: Probe;
    /** Who exec probes run as: the unit's user, group, dynamicUser (only with an exec probe). */
    runAs?: { user?: string; group?: string; dynamicUser?: boolean };
  }>;
  /** The files the agent writes beside the units (secrets only sealed for this node). */
  files?: DeliveredFile[];
  /** The artifacts the agent stages (all of them) before it changes any unit. */
  artifacts?: ChildArtifact[];
  /** sha256 over every unit file's name and content (and the files and artifacts): the rollout compares hashes. */
  hash: string;
  /** The first 12 hex digits of hash, for the HASH printer column (render() sets it). */
  shortHash?: string;
}

export interface UnitStatus {
  name: string; // workload unit name
  unit: string; // systemd unit file name
  activeState?: string;
  subState?: string;
  result?: string;
  restarts?: number;
  /** Restarts counted before the agent's last back-off start (which resets systemd's NRestarts). */
  earlierRestarts?: number;
  /** CrashLoopBackOff while the unit crashes and is restarted. */
  reason?: string;
  /** Starts the agent made in this crash loop. */
  backOffAttempts?: number;
  /** When the agent starts the failed unit again. */
  nextStartTime?: string;
  exitCode?: number;
  exitStatus?: number;
  lastStartTime?: string;
  lastExitTime?: string;
  lastTermination?: { code: string; status: number; time: string; reason: string };
  /** undefined when systemd says "not available" (UINT64_MAX) */
  memoryBytes?: number;
  cpuNanoseconds?: number;
  tasks?: number;
  timer?: { lastTrigger?: string; nextElapse?: string; lastResult?: string };
  message?: string;
  /** Active and its readinessProbe (if any) holds. */
  ready?: boolean;
  probes?: { readiness?: ProbeResult; liveness?: ProbeResult };
}

/** A probe's state on the node, as the agent last saw it. */
export interface ProbeResult {
  result: 'Success' | 'Failure' | 'Pending';
  consecutiveFailures?: number;
  message?: string;
}

export interface SystemdUnitSetStatus {
  observedGeneration?: number;
  /** The spec hash the agent has applied. */
  appliedHash?: string;
  phase?: NodePhase;
  /** When the node's units were last all ready (for minReadySeconds). */
  readySince?: string;
  units?: UnitStatus[];
  message?: string;
  conditions?: Condition[];
  /** The node agent's X25519 public key (base64): Secret values are sealed for it. */
  sealingKey?: string;
}

export interface SystemdUnitSet {
  apiVersion: typeof API_VERSION;
  kind: typeof UNITSET_KIND;
  metadata: ObjectMeta;
  spec: SystemdUnitSetSpec;
  status?: SystemdUnitSetStatus;
}

// ---- SystemdWorkloadPolicy (cluster-scoped, written by cluster admins) ----

export const POLICY_KIND = 'SystemdWorkloadPolicy';
export const POLICY_PLURAL = 'systemdworkloadpolicies';
/**
 * The namespace label (set by cluster admins only) without which no workload in
 * the namespace may run a unit as root, whatever the policies say: the default
 * ValidatingAdmissionPolicy in config/policy/ checks it.
 */
export const LABEL_ALLOW_ROOT = `${GROUP}/allow-root`;

/** A node label a workload may select nodes by; without values, any value of the key. */
export interface NodeSelectorRule {
  key: string;
  values?: string[];
}

export type ProtectSystem = 'false' | 'true' | 'full' | 'strict';
export type ProtectHome = 'false' | 'true' | 'read-only' | 'tmpfs';

/**
 * What workloads in the listed namespaces may do. A field that is not set does not
 * restrict (except allowRoot, false by default). Every policy that lists a
 * namespace applies to it: a workload must satisfy all of them.
 */
export interface SystemdWorkloadPolicySpec {
  /** The namespaces this policy covers (names). */
  namespaces: string[];
  /**
   * The workload's nodeSelector must contain one of these labels (a selector is
   * an AND, so any further labels only narrow it). Not set: any nodes.
   */
  allowedNodeSelectors?: NodeSelectorRule[];
  /** User= names (or ids) units may run as; dynamicUser is always allowed. Not set: any non-root user. */
  allowedUsers?: string[];
  /** Whether units may run as root (no user and no dynamicUser, or user/group root or 0). Default false. */
  allowRoot?: boolean;
  /**
   * command[0] must equal an entry, or start with an entry that ends in '/'
   * (a directory prefix); paths with '.', '..' or '//' components never match.
   */
  allowedExecutables?: string[];
  /**
   * Directories spec.files[].path may lie (strictly) below outside the workload's
   * own /etc/sdw directory; the namespace needs the allow-file-paths label too.
   * Not set: no file outside /etc/sdw (src/api/filePaths.ts).
   */
  allowedFilePaths?: string[];
  /** Sandboxing every unit must have (at least as strict). */
  requiredSandbox?: {
    noNewPrivileges?: boolean;
    privateTmp?: boolean;
    protectSystem?: ProtectSystem;
    protectHome?: ProtectHome;
  };
  /** Per-unit ceilings; a ceiling also makes its limit required. */
  resources?: {
    /** Every unit must set memory, cpu and tasks limits. */
    requireLimits?: boolean;
    maxMemory?: string;
    maxCpu?: string;
    maxTasks?: number;
  };
}

export interface SystemdWorkloadPolicy {
  apiVersion: typeof API_VERSION;
  kind: typeof POLICY_KIND;
  metadata: ObjectMeta;
  spec: SystemdWorkloadPolicySpec;
}
