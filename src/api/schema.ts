// The OpenAPI v3 + CEL schemas of SystemdWorkload and SystemdUnitSet: the one
// source of the CRDs (crd.ts wraps them, hack/gen-crds.ts writes crds/*.yaml, and
// a unit test fails when the files and this module disagree). src/api/validate.ts
// interprets these schemas offline; the messages are exported for it.
//
// CEL cost: every list and string that a rule iterates has maxItems/maxLength, so
// the apiserver's static cost estimate stays within its per-rule budget.
// What CEL cannot do is left to validateWorkload() in the controller: ordering
// cycles longer than two units, the exact cron reason (range order, never-firing
// dates), quantity ranges beyond "greater than zero".
import { SCHEDULE_PATTERN } from './cron.js';

export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchema>;
  additionalProperties?: JSONSchema | boolean;
  items?: JSONSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

// ---- bounds (shared with validate.ts) ----
export const LIMITS = {
  workloadNameLength: 63,
  units: 32,
  unitNameLength: 40,
  command: 256,
  argLength: 4096,
  env: 128,
  envNameLength: 256,
  envValueLength: 4096,
  deps: 16,
  paths: 32,
  pathLength: 1024,
  userLength: 32,
  scheduleLength: 128,
  timeZoneLength: 64,
  delaySeconds: 3600,
  tasks: 4194304,
  quantityLength: 64,
  tolerations: 32,
  nodeSelector: 64,
  minReadySeconds: 86400,
  /** status.nodes of a workload: the controller keeps the problem nodes first. */
  nodeSummaries: 100,
  conditions: 16,
  messageLength: 1024,
  fileContentLength: 65536,
} as const;

// ---- patterns (RE2 and ECMAScript compatible) ----
const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const PATTERNS = {
  /** A Kubernetes DNS label (RFC 1123): namespaces, unit names. */
  dnsLabel: `^${DNS_LABEL}$`,
  /** A Kubernetes DNS subdomain: object names such as a workload's. */
  dnsSubdomain: `^${DNS_LABEL}(\\.${DNS_LABEL})*$`,
  unitName: `^${DNS_LABEL}$`,
  /** No C0/C1 control characters and no DEL: nothing can start a new line in a unit file. */
  noControl: '^[^\\x00-\\x1f\\x7f-\\x9f]*$',
  envName: '^[A-Za-z_][A-Za-z0-9_]*$',
  /** A user or group name (systemd's relaxed rules, minus '$'), or a numeric id. */
  user: '^([A-Za-z_][A-Za-z0-9_.-]*|[0-9]{1,10})$',
  /**
   * An absolute, normalized path: no whitespace, control characters, quotes or
   * backslashes, no '//' and no '.' or '..' component.
   */
  absolutePath: (() => {
    const c = '[^/\\x00-\\x20\\x7f-\\x9f"\'\\\\]';
    const cNoDot = '[^/.\\x00-\\x20\\x7f-\\x9f"\'\\\\]';
    const comp = `(${cNoDot}${c}*|\\.${cNoDot}${c}*|\\.\\.${c}+)`;
    return `^/(${comp}(/${comp})*/?)?$`;
  })(),
  timeZone: '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$',
  maxUnavailablePercent: '^(100|[1-9][0-9]?)%$',
  schedule: SCHEDULE_PATTERN,
  unitFileName: `^sdw-${DNS_LABEL}_[a-z0-9]([-a-z0-9.]*[a-z0-9])?_${DNS_LABEL}\\.(service|timer)$`,
  sha256: '^[0-9a-f]{64}$',
} as const;

// ---- messages (shared with validate.ts; each names its field) ----
export const MESSAGES = {
  workloadName: `metadata.name: must be at most ${LIMITS.workloadNameLength} characters (it is a label value and part of the systemd unit name)`,
  commandPath: "command[0]: must be an absolute path to an executable (starting with '/', not ending with '/', without '$')",
  dynamicUser: 'user: must not be set when dynamicUser is true',
  oneshotAlways: 'restart.policy: Always is not allowed for type oneshot (use OnFailure or Never)',
  maxDelayBelowDelay:
    'restart.maxDelaySeconds: must not be less than restart.delaySeconds (the back-off starts at the delay and doubles up to this cap)',
  timeZoneNeedsSchedule: 'timeZone: is only allowed together with schedule',
  afterSelf: 'after: a unit must not list itself',
  requiresSelf: 'requires: a unit must not list itself',
  depsExist: 'units[].after and units[].requires: must name units of this workload',
  afterTwoCycle: 'units[].after: two units must not be ordered after each other (an ordering cycle)',
  schedule:
    'schedule: must be a 5-field cron expression (minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 or SUN-SAT; * ? , - /) or @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly',
  memory: "resources.limits.memory: must be a quantity greater than 0 (e.g. '256Mi')",
  cpuLimit: "resources.limits.cpu: must be a quantity greater than 0 (e.g. '500m', 2)",
  cpuRequest: "resources.requests.cpu: must be a quantity greater than 0 (e.g. '250m', 1)",
  maxUnavailable: 'updateStrategy.rollingUpdate.maxUnavailable: must be an integer >= 1 or a percentage from 1% to 100%',
  tolerationExists: 'tolerations[].value: must be empty when operator is Exists',
} as const;

/** What a value that fails a pattern is told (src/api/validate.ts; the API server only says "should match"). */
export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [PATTERNS.dnsLabel]: 'must be a lowercase DNS label (^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)',
  [PATTERNS.noControl]: 'must not contain control characters or newlines',
  [PATTERNS.envName]: 'must be a C identifier (^[A-Za-z_][A-Za-z0-9_]*$)',
  [PATTERNS.user]: 'must be a user/group name (^[A-Za-z_][A-Za-z0-9_.-]*$, at most 32 characters) or a numeric id',
  [PATTERNS.absolutePath]: "must be an absolute normalized path without whitespace, quotes, backslashes or '.'/'..' components",
  [PATTERNS.timeZone]: 'must be an IANA time zone name such as Europe/Berlin',
};

// ---- building blocks ----
const str = (maxLength: number, extra: JSONSchema = {}): JSONSchema => ({ type: 'string', maxLength, ...extra });
const safeStr = (maxLength: number, description?: string): JSONSchema =>
  str(maxLength, { pattern: PATTERNS.noControl, ...(description ? { description } : {}) });
const pathStr = (description: string): JSONSchema => str(LIMITS.pathLength, { description, minLength: 1, pattern: PATTERNS.absolutePath });
const unitNameStr = (description: string): JSONSchema =>
  str(LIMITS.unitNameLength, { description, minLength: 1, pattern: PATTERNS.unitName });

/** CEL for an int-or-string quantity that must be > 0. */
const restartPolicy: JSONSchema = { type: 'string', enum: ['Always', 'OnFailure', 'Never'] };
const positiveQuantity = (description: string, message: string): JSONSchema => ({
  description,
  'x-kubernetes-int-or-string': true,
  maxLength: LIMITS.quantityLength,
  'x-kubernetes-validations': [
    {
      rule: "type(self) == int ? self > 0 : (isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))",
      message,
    },
  ],
});

const conditionSchema: JSONSchema = {
  type: 'object',
  description: 'A metav1.Condition.',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: str(316, {
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: str(1024, { minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
    message: str(32768),
  },
};

const conditionsSchema: JSONSchema = {
  type: 'array',
  maxItems: LIMITS.conditions,
  items: conditionSchema,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

// ---- SystemdWorkload ----
const unitSchema: JSONSchema = {
  type: 'object',
  description: 'One systemd unit of the workload, as a container is one of a Pod.',
  required: ['name', 'command'],
  properties: {
    name: unitNameStr('DNS label; the systemd unit is sdw-<namespace>_<workload>_<name>.service.'),
    type: {
      type: 'string',
      description: 'service (long-running, Type=exec: a missing binary fails the start) or oneshot (runs to completion).',
      enum: ['service', 'oneshot'],
      default: 'service',
    },
    command: {
      type: 'array',
      description: 'argv; command[0] is an absolute path. Not run through a shell; no variable expansion.',
      minItems: 1,
      maxItems: LIMITS.command,
      items: safeStr(LIMITS.argLength),
      'x-kubernetes-list-type': 'atomic',
      'x-kubernetes-validations': [
        {
          rule: "size(self) == 0 || (self[0].startsWith('/') && !self[0].endsWith('/') && !self[0].contains('$'))",
          message: MESSAGES.commandPath,
        },
      ],
    },
    env: {
      type: 'array',
      description: 'Environment variables (Environment=); values are literal.',
      maxItems: LIMITS.env,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: str(LIMITS.envNameLength, { minLength: 1, pattern: PATTERNS.envName }),
          value: { ...safeStr(LIMITS.envValueLength), default: '' },
        },
      },
    },
    user: str(LIMITS.userLength, { description: 'User= (name or uid); exclusive with dynamicUser.', minLength: 1, pattern: PATTERNS.user }),
    group: str(LIMITS.userLength, { description: 'Group= (name or gid).', minLength: 1, pattern: PATTERNS.user }),
    dynamicUser: { type: 'boolean', description: 'DynamicUser=yes: a transient user allocated by systemd.' },
    workingDirectory: pathStr('WorkingDirectory=, an absolute path.'),
    restart: {
      type: 'object',
      description: 'Restart policy. Default: Always for an unscheduled service, Never otherwise.',
      properties: {
        policy: restartPolicy,
        delaySeconds: {
          type: 'integer',
          description:
            'RestartSec=: systemd restarts a crashed unit itself after this delay, up to StartLimitBurst=5 times; then the agent starts it again after a delay that doubles from delaySeconds (at least 1 s) up to maxDelaySeconds, for ever.',
          minimum: 0,
          maximum: LIMITS.delaySeconds,
        },
        maxDelaySeconds: {
          type: 'integer',
          description:
            "The cap of the agent's crash-loop back-off (default 300, as Kubernetes' CrashLoopBackOff). The delay doubles on each start the agent makes and resets once the unit has stayed up for 10 minutes. Agent-side: renders to no directive.",
          minimum: 1,
          maximum: LIMITS.delaySeconds,
        },
      },
    },
    resources: {
      type: 'object',
      properties: {
        limits: {
          type: 'object',
          properties: {
            memory: positiveQuantity('MemoryMax= (bytes).', MESSAGES.memory),
            cpu: positiveQuantity('CPUQuota= (1 CPU = 100%).', MESSAGES.cpuLimit),
            tasks: { type: 'integer', description: 'TasksMax=.', minimum: 1, maximum: LIMITS.tasks },
          },
        },
        requests: {
          type: 'object',
          properties: {
            cpu: positiveQuantity('CPUWeight= (1 CPU = 100, the systemd default).', MESSAGES.cpuRequest),
          },
        },
      },
    },
    after: {
      type: 'array',
      description: 'Units of this workload to start before this one (After=).',
      maxItems: LIMITS.deps,
      items: unitNameStr('A unit of this workload.'),
      'x-kubernetes-list-type': 'set',
    },
    requires: {
      type: 'array',
      description: 'Units of this workload this one needs (Requires=); does not imply ordering, add them to after too.',
      maxItems: LIMITS.deps,
      items: unitNameStr('A unit of this workload.'),
      'x-kubernetes-list-type': 'set',
    },
    schedule: {
      type: 'string',
      description: 'Cron expression (Kubernetes CronJob syntax): the unit runs from a systemd timer (OnCalendar=, Persistent=true).',
      maxLength: LIMITS.scheduleLength,
      'x-kubernetes-validations': [{ rule: `self.matches('(?i)${SCHEDULE_PATTERN}')`, message: MESSAGES.schedule }],
    },
    timeZone: str(LIMITS.timeZoneLength, {
      description: "IANA time zone of schedule; default the node's local time.",
      pattern: PATTERNS.timeZone,
    }),
    sandbox: {
      type: 'object',
      properties: {
        privateTmp: { type: 'boolean' },
        protectSystem: { type: 'string', enum: ['false', 'true', 'full', 'strict'] },
        protectHome: { type: 'string', enum: ['false', 'true', 'read-only', 'tmpfs'] },
        noNewPrivileges: { type: 'boolean' },
        readOnlyPaths: { type: 'array', maxItems: LIMITS.paths, items: pathStr('An absolute path.'), 'x-kubernetes-list-type': 'atomic' },
        readWritePaths: { type: 'array', maxItems: LIMITS.paths, items: pathStr('An absolute path.'), 'x-kubernetes-list-type': 'atomic' },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '!(has(self.dynamicUser) && self.dynamicUser && has(self.user))',
      message: MESSAGES.dynamicUser,
      fieldPath: '.user',
      reason: 'FieldValueForbidden',
    },
    {
      rule: "!(has(self.type) && self.type == 'oneshot' && has(self.restart) && has(self.restart.policy) && self.restart.policy == 'Always')",
      message: MESSAGES.oneshotAlways,
      fieldPath: '.restart.policy',
    },
    {
      rule: '!has(self.restart) || !has(self.restart.maxDelaySeconds) || !has(self.restart.delaySeconds) || self.restart.maxDelaySeconds >= self.restart.delaySeconds',
      message: MESSAGES.maxDelayBelowDelay,
      fieldPath: '.restart.maxDelaySeconds',
    },
    {
      rule: '!has(self.timeZone) || has(self.schedule)',
      message: MESSAGES.timeZoneNeedsSchedule,
      fieldPath: '.timeZone',
      reason: 'FieldValueForbidden',
    },
    { rule: '!has(self.after) || !(self.name in self.after)', message: MESSAGES.afterSelf, fieldPath: '.after' },
    { rule: '!has(self.requires) || !(self.name in self.requires)', message: MESSAGES.requiresSelf, fieldPath: '.requires' },
  ],
};

const depsMissing = (u: string) =>
  `(has(${u}.after) && !${u}.after.all(a, self.exists(v, v.name == a))) || (has(${u}.requires) && !${u}.requires.all(a, self.exists(v, v.name == a)))`;
const twoCycle = (u: string) =>
  `has(${u}.after) && ${u}.after.exists(a, self.exists(v, v.name == a && v.name != ${u}.name && has(v.after) && ${u}.name in v.after))`;

const unitsSchema: JSONSchema = {
  type: 'array',
  description: 'The units of the workload (at least one, unique names).',
  minItems: 1,
  maxItems: LIMITS.units,
  items: unitSchema,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  'x-kubernetes-validations': [
    {
      rule: `!self.exists(u, ${depsMissing('u')})`,
      message: MESSAGES.depsExist,
    },
    {
      rule: `!self.exists(u, ${twoCycle('u')})`,
      message: MESSAGES.afterTwoCycle,
    },
  ],
};

const tolerationSchema: JSONSchema = {
  type: 'object',
  properties: {
    key: str(316),
    operator: { type: 'string', enum: ['Exists', 'Equal'] },
    value: str(63),
    effect: { type: 'string', enum: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
  },
  'x-kubernetes-validations': [
    {
      rule: "!(has(self.operator) && self.operator == 'Exists' && has(self.value) && self.value != '')",
      message: MESSAGES.tolerationExists,
      fieldPath: '.value',
    },
  ],
};

const workloadSpecSchema: JSONSchema = {
  type: 'object',
  required: ['units'],
  properties: {
    nodeSelector: {
      type: 'object',
      description: 'Node labels a node must have to run the workload.',
      maxProperties: LIMITS.nodeSelector,
      additionalProperties: str(63),
    },
    tolerations: {
      type: 'array',
      description: 'Node taints the workload tolerates.',
      maxItems: LIMITS.tolerations,
      items: tolerationSchema,
      'x-kubernetes-list-type': 'atomic',
    },
    units: unitsSchema,
    updateStrategy: {
      type: 'object',
      default: {},
      properties: {
        type: { type: 'string', enum: ['RollingUpdate'], default: 'RollingUpdate' },
        rollingUpdate: {
          type: 'object',
          default: {},
          properties: {
            maxUnavailable: {
              'x-kubernetes-int-or-string': true,
              description: 'Nodes updated at a time: an integer >= 1 or a percentage of the desired nodes (1%-100%). Default 1.',
              default: 1,
              'x-kubernetes-validations': [
                {
                  rule: `type(self) == int ? self >= 1 : self.matches('${PATTERNS.maxUnavailablePercent}')`,
                  message: MESSAGES.maxUnavailable,
                },
              ],
            },
          },
        },
      },
    },
    minReadySeconds: {
      type: 'integer',
      description: "Seconds a node's units must be up before it counts as available.",
      minimum: 0,
      maximum: LIMITS.minReadySeconds,
    },
    paused: { type: 'boolean', description: 'Stop rolling out changes.' },
  },
};

const nodeSummarySchema: JSONSchema = {
  type: 'object',
  required: ['node', 'phase', 'restarts'],
  properties: {
    node: str(253),
    phase: { type: 'string', enum: ['Pending', 'Running', 'Completed', 'Failed', 'Unknown'] },
    restarts: { type: 'integer', format: 'int64', minimum: 0 },
    exitCode: { type: 'integer', format: 'int32' },
    memoryBytes: { type: 'integer', format: 'int64', minimum: 0 },
    cpuSeconds: { type: 'number' },
    message: str(LIMITS.messageLength),
  },
};

const workloadStatusSchema: JSONSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    hash: {
      type: 'string',
      maxLength: 64,
      description: "Content hash of the current spec's units: what every node has when the rollout is done.",
    },
    desiredNodes: { type: 'integer', format: 'int32', minimum: 0 },
    currentNodes: { type: 'integer', format: 'int32', minimum: 0 },
    readyNodes: { type: 'integer', format: 'int32', minimum: 0 },
    updatedNodes: { type: 'integer', format: 'int32', minimum: 0 },
    failedNodes: { type: 'integer', format: 'int32', minimum: 0 },
    unknownNodes: { type: 'integer', format: 'int32', minimum: 0 },
    restarts: { type: 'integer', format: 'int64', minimum: 0 },
    phase: { type: 'string', enum: ['Pending', 'Progressing', 'Running', 'Completed', 'Degraded', 'Failed'] },
    conditions: conditionsSchema,
    nodes: {
      type: 'array',
      description: 'Per-node summaries, the problem nodes first (bounded).',
      maxItems: LIMITS.nodeSummaries,
      items: nodeSummarySchema,
      'x-kubernetes-list-type': 'atomic',
    },
  },
};

export const workloadSchema: JSONSchema = {
  type: 'object',
  description: 'SystemdWorkload runs systemd units on every matching node, as a DaemonSet runs containers.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: workloadSpecSchema,
    status: workloadStatusSchema,
  },
  'x-kubernetes-validations': [
    { rule: `size(self.metadata.name) <= ${LIMITS.workloadNameLength}`, message: MESSAGES.workloadName, reason: 'FieldValueInvalid' },
  ],
};

// ---- SystemdUnitSet (controller-written spec; the schema is defence in depth for the agent) ----
const renderedFileSchema: JSONSchema = {
  type: 'object',
  required: ['name', 'content'],
  properties: {
    name: str(255, { pattern: PATTERNS.unitFileName }),
    content: str(LIMITS.fileContentLength),
  },
};

const unitSetSpecSchema: JSONSchema = {
  type: 'object',
  required: ['nodeName', 'units', 'hash'],
  properties: {
    nodeName: str(253, { minLength: 1 }),
    units: {
      type: 'array',
      maxItems: LIMITS.units,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        required: ['name', 'type', 'scheduled', 'files'],
        properties: {
          name: unitNameStr('The workload unit name.'),
          type: { type: 'string', enum: ['service', 'oneshot'] },
          scheduled: { type: 'boolean' },
          restart: { ...restartPolicy, description: 'The restart policy in effect (defaults applied).' },
          backOff: {
            type: 'object',
            description:
              "The agent's crash-loop back-off for this unit: restart.delaySeconds and restart.maxDelaySeconds with defaults applied.",
            required: ['delaySeconds', 'maxDelaySeconds'],
            properties: {
              delaySeconds: { type: 'integer', minimum: 0, maximum: LIMITS.delaySeconds },
              maxDelaySeconds: { type: 'integer', minimum: 1, maximum: LIMITS.delaySeconds },
            },
          },
          files: { type: 'array', minItems: 1, maxItems: 2, items: renderedFileSchema, 'x-kubernetes-list-type': 'atomic' },
        },
      },
    },
    hash: str(64, { pattern: PATTERNS.sha256 }),
    shortHash: str(12, { pattern: '^[0-9a-f]{12}$' }),
  },
};

const unitStatusSchema: JSONSchema = {
  type: 'object',
  required: ['name', 'unit'],
  properties: {
    name: str(LIMITS.unitNameLength),
    unit: str(255),
    activeState: str(64),
    subState: str(64),
    result: str(64),
    restarts: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: "Restarts of the unit: systemd's own (NRestarts) plus the agent's back-off starts (earlierRestarts).",
    },
    earlierRestarts: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description:
        "Restarts counted before the agent's last back-off start, which resets systemd's NRestarts; kept so restarts never goes back.",
    },
    reason: str(64, { description: 'CrashLoopBackOff while the unit crashes and is being restarted (by systemd or by the agent).' }),
    backOffAttempts: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      description: 'Starts the agent made in this crash loop (the delay doubles with each; back to 0 after 10 minutes up).',
    },
    nextStartTime: { type: 'string', format: 'date-time', description: 'When the agent starts the failed unit again.' },
    exitCode: { type: 'integer', format: 'int32' },
    exitStatus: { type: 'integer', format: 'int32' },
    lastStartTime: { type: 'string', format: 'date-time' },
    lastExitTime: { type: 'string', format: 'date-time' },
    lastTermination: {
      type: 'object',
      required: ['code', 'status', 'time', 'reason'],
      properties: {
        code: str(64),
        status: { type: 'integer', format: 'int32' },
        time: { type: 'string', format: 'date-time' },
        reason: str(LIMITS.messageLength),
      },
    },
    memoryBytes: { type: 'integer', format: 'int64', minimum: 0 },
    cpuNanoseconds: { type: 'integer', format: 'int64', minimum: 0 },
    tasks: { type: 'integer', format: 'int64', minimum: 0 },
    timer: {
      type: 'object',
      properties: {
        lastTrigger: { type: 'string', format: 'date-time' },
        nextElapse: { type: 'string', format: 'date-time' },
        lastResult: str(64),
      },
    },
    message: str(LIMITS.messageLength),
  },
};

const unitSetStatusSchema: JSONSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    appliedHash: str(64),
    phase: { type: 'string', enum: ['Pending', 'Running', 'Completed', 'Failed', 'Unknown'] },
    readySince: { type: 'string', format: 'date-time' },
    units: { type: 'array', maxItems: LIMITS.units, items: unitStatusSchema, 'x-kubernetes-list-type': 'atomic' },
    message: str(LIMITS.messageLength),
    conditions: conditionsSchema,
  },
};

export const unitSetSchema: JSONSchema = {
  type: 'object',
  description: 'SystemdUnitSet: the rendered units of one SystemdWorkload for one node (as a Pod is to a DaemonSet).',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: unitSetSpecSchema,
    status: unitSetStatusSchema,
  },
};

// ---- SystemdWorkloadPolicy (cluster-scoped; enforced by config/policy/ and src/controller/policy.ts) ----
export const POLICY_LIMITS = {
  namespaces: 256,
  users: 64,
  executables: 64,
  nodeSelectors: 32,
  nodeSelectorValues: 32,
} as const;

const quantityStr = (description: string, what: string): JSONSchema =>
  str(LIMITS.quantityLength, {
    description,
    'x-kubernetes-validations': [
      {
        rule: "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",
        message: `must be a quantity greater than 0 (e.g. ${what})`,
      },
    ],
  });

const policySpecSchema: JSONSchema = {
  type: 'object',
  required: ['namespaces'],
  properties: {
    namespaces: {
      type: 'array',
      description: 'The namespaces this policy covers. Every policy listing a namespace applies to its workloads.',
      minItems: 1,
      maxItems: POLICY_LIMITS.namespaces,
      items: str(63, { minLength: 1, pattern: PATTERNS.dnsLabel }),
      'x-kubernetes-list-type': 'set',
    },
    allowedNodeSelectors: {
      type: 'array',
      description:
        "The workload's nodeSelector must contain one of these labels (values: any of them; no values: any value). Not set: any nodes.",
      maxItems: POLICY_LIMITS.nodeSelectors,
      'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'object',
        required: ['key'],
        properties: {
          key: str(316, { minLength: 1 }),
          values: { type: 'array', maxItems: POLICY_LIMITS.nodeSelectorValues, items: str(63), 'x-kubernetes-list-type': 'set' },
        },
      },
    },
    allowedUsers: {
      type: 'array',
      description:
        'User= names or ids units may run as (dynamicUser is always allowed; root is governed by allowRoot). Not set: any non-root user.',
      maxItems: POLICY_LIMITS.users,
      items: str(LIMITS.userLength, { minLength: 1, pattern: PATTERNS.user }),
      'x-kubernetes-list-type': 'set',
    },
    allowRoot: {
      type: 'boolean',
      description: 'Units may run as root (no user and no dynamicUser, or user/group root or 0). Default false.',
      default: false,
    },
    allowedExecutables: {
      type: 'array',
      description: "command[0] must equal an entry, or start with one that ends in '/' (a directory). Not set: any executable.",
      maxItems: POLICY_LIMITS.executables,
      items: pathStr("An absolute path; a directory prefix when it ends in '/'."),
      'x-kubernetes-list-type': 'set',
    },
    requiredSandbox: {
      type: 'object',
      description: 'Sandboxing every unit must have, at least as strict.',
      properties: {
        noNewPrivileges: { type: 'boolean', description: 'true: units must set sandbox.noNewPrivileges: true.' },
        privateTmp: { type: 'boolean', description: 'true: units must set sandbox.privateTmp: true.' },
        protectSystem: {
          type: 'string',
          enum: ['false', 'true', 'full', 'strict'],
          description: 'Minimum sandbox.protectSystem (false < true < full < strict).',
        },
        protectHome: {
          type: 'string',
          enum: ['false', 'true', 'read-only', 'tmpfs'],
          description: 'Minimum sandbox.protectHome (false < read-only < tmpfs < true).',
        },
      },
    },
    resources: {
      type: 'object',
      description: 'Per-unit ceilings. A ceiling makes its limit required.',
      properties: {
        requireLimits: { type: 'boolean', description: 'Every unit must set resources.limits.memory, cpu and tasks.' },
        maxMemory: quantityStr('Largest resources.limits.memory of a unit.', "'1Gi'"),
        maxCpu: quantityStr('Largest resources.limits.cpu of a unit.', "'2', '500m'"),
        maxTasks: { type: 'integer', description: 'Largest resources.limits.tasks of a unit.', minimum: 1, maximum: LIMITS.tasks },
      },
    },
  },
};

export const policySchema: JSONSchema = {
  type: 'object',
  description:
    'SystemdWorkloadPolicy (cluster-scoped): what SystemdWorkloads in the listed namespaces may do. Enforced at admission and by the controller.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: policySpecSchema,
  },
};
