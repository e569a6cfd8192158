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
import { SCHEDULE_FIRES_RULE, SCHEDULE_PATTERN } from './cron.js';
import { artifactRefsRule, artifactsSchema, childArtifactsSchema, unitArtifactsSchema } from './artifacts.js';
import { FILES_ROOT, FORBIDDEN_FILE_PREFIXES } from './filePaths.js';

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
  progressDeadlineSeconds: 86400,
  /** rollingUpdate.partition: nodes kept on the old version (more than any cluster's nodes is a typo). */
  partition: 100000,
  labelKeyLength: 317,
  /** A probe's initialDelaySeconds, periodSeconds and timeoutSeconds. */
  probeSeconds: 86400,
  probeThreshold: 1000,
  probeHostLength: 253,
  /** status.nodes of a workload: the controller keeps the problem nodes first. */
  nodeSummaries: 100,
  conditions: 16,
  messageLength: 1024,
  fileContentLength: 65536,
  /** spec.files: config files and secrets delivered beside the units. */
  files: 32,
  keyRefLength: 253,
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
  /** A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
  labelKey: `^(${DNS_LABEL}(\\.${DNS_LABEL})*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`,
  /** An httpGet path: absolute, printable, no spaces (it goes on the request line). */
  httpPath: '^/[!-~]*$',
  /** A probe host: a DNS name, an IPv4 address or a bracketless IPv6 address. */
  probeHost: '^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+)$',
  schedule: SCHEDULE_PATTERN,
  unitFileName: `^sdw-${DNS_LABEL}_[a-z0-9]([-a-z0-9.]*[a-z0-9])?_${DNS_LABEL}\\.(service|timer)$`,
  sha256: '^[0-9a-f]{64}$',
  /** A file mode as an octal string: 0644, 600. */
  octalMode: '^0?[0-7]{3}$',
  /** A ConfigMap or Secret key. */
  dataKey: '^[-._a-zA-Z0-9]+$',
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
    'schedule: must be a 5-field cron expression as Kubernetes CronJob reads it (minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-6 or SUN-SAT; * ? , - /) or @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly',
  scheduleFires: 'schedule: never fires (no month of the schedule has its day-of-month, e.g. 30 February)',
  timeZoneKnown: 'timeZone: must be a time zone of the IANA database (e.g. Europe/Berlin)',
  memory: "resources.limits.memory: must be a quantity greater than 0 (e.g. '256Mi')",
  cpuLimit: "resources.limits.cpu: must be a quantity greater than 0 (e.g. '500m', 2)",
  cpuRequest: "resources.requests.cpu: must be a quantity greater than 0 (e.g. '250m', 1)",
  maxUnavailable: 'updateStrategy.rollingUpdate.maxUnavailable: must be an integer >= 1 or a percentage from 1% to 100%',
  tolerationExists: 'tolerations[].value: must be empty when operator is Exists',
  fileSource: 'files[]: exactly one of content, configMapKeyRef and secretKeyRef must be set',
  filePathUnique: 'files[].path: two files must not have the same path',
  filePathOwned: `files[].path: a path under /etc/sdw must be under /etc/sdw/<namespace>/<workload name>/, the directory the operator owns for this workload (never another workload's)`,
  filePathForbidden: `files[].path: must not be under ${FORBIDDEN_FILE_PREFIXES.join(', ')} (systemd's and the operator's own directories), whatever a policy allows`,
  fileRefsExist: 'units[].files[].name: must name a file of spec.files',
  envValueOrFrom: 'env[]: value and valueFrom must not both be set',
  envValueFromOne: 'valueFrom: exactly one of configMapKeyRef and secretKeyRef must be set',
  reloadOne: 'reload: exactly one of signal and command must be set',
  reloadNeeded: 'units[].files[].changeMode: reload needs the unit to set reload (a signal or a command)',
  probeHandler: 'probe: must have exactly one handler of exec, httpGet and tcpSocket',
  probeCommandPath: "exec.command[0]: must be an absolute path to an executable (starting with '/', not ending with '/', without '$')",
  livenessSuccess: 'livenessProbe.successThreshold: must be 1',
  probeOneshot: 'type: readinessProbe and livenessProbe are only allowed on a service or notify unit without a schedule',
} as const;

/** What a value that fails a pattern is told (src/api/validate.ts; the API server only says "should match"). */
export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [PATTERNS.dnsLabel]: 'must be a lowercase DNS label (^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)',
  [PATTERNS.noControl]: 'must not contain control characters or newlines',
  [PATTERNS.envName]: 'must be a C identifier (^[A-Za-z_][A-Za-z0-9_]*$)',
  [PATTERNS.user]: 'must be a user/group name (^[A-Za-z_][A-Za-z0-9_.-]*$, at most 32 characters) or a numeric id',
  [PATTERNS.absolutePath]: "must be an absolute normalized path without whitespace, quotes, backslashes or '.'/'..' components",
  [PATTERNS.timeZone]: 'must be an IANA time zone name such as Europe/Berlin',
  [PATTERNS.octalMode]: 'must be a file mode as an octal string such as "0640"',
  [PATTERNS.dataKey]: 'must be a ConfigMap or Secret key (letters, digits, -, _ and .)',
  [PATTERNS.sha256]: 'must be 64 lowercase hex digits (a SHA-256, as sha256sum prints it)',
  [PATTERNS.labelKey]: 'must be a label key such as topology.kubernetes.io/zone (an optional DNS prefix and /, then at most 63 characters)',
  [PATTERNS.httpPath]: "must be an absolute path of printable characters without spaces (e.g. '/healthz')",
  [PATTERNS.probeHost]: 'must be a host name, an IPv4 address or an IPv6 address (without brackets)',
};

// ---- building blocks ----
const str = (maxLength: number, extra: JSONSchema = {}): JSONSchema => ({ type: 'string', maxLength, ...extra });
const safeStr = (maxLength: number, description?: string): JSONSchema =>
  str(maxLength, { pattern: PATTERNS.noControl, ...(description ? { description } : {}) });
const pathStr = (description: string): JSONSchema => str(LIMITS.pathLength, { description, minLength: 1, pattern: PATTERNS.absolutePath });
const unitNameStr = (description: string): JSONSchema =>
  str(LIMITS.unitNameLength, { description, minLength: 1, pattern: PATTERNS.unitName });

/** CEL for an int-or-string quantity that must be > 0. */
const restartPolicy: JSONSchema = {
  type: 'string',
  description:
    'When systemd restarts the unit: Always (Restart=always), OnFailure (Restart=on-failure) or Never (Restart=no). Default: Always for an unscheduled service, Never otherwise.',
  enum: ['Always', 'OnFailure', 'Never'],
};
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
      description: 'The condition, e.g. Available, Progressing or Degraded (CamelCase).',
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'Whether the condition holds: True, False or Unknown.' },
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'The metadata.generation the condition was set for; older than the object means it may be out of date.',
    },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When status last changed.' },
    reason: str(1024, {
      description: 'A CamelCase word for why (e.g. NodeFailed, RollingUpdate), the same as the Event reasons.',
      minLength: 1,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: str(32768, { description: 'Human-readable detail: which nodes and units, and what systemd reported.' }),
  },
};

const conditionsSchema: JSONSchema = {
  type: 'array',
  description: 'The latest observations of the object, one per type (kubectl describe and kubectl wait --for=condition read them).',
  maxItems: LIMITS.conditions,
  items: conditionSchema,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

/** command[0] is an absolute path to an executable (command, reload.command, exec probes). */
const ARGV0_ABSOLUTE = "size(self) == 0 || (self[0].startsWith('/') && !self[0].endsWith('/') && !self[0].contains('$'))";

// ---- files, environment from ConfigMaps and Secrets, change behaviour (issue 15) ----
// A workload declares files (spec.files) under the directory the operator owns for
// it, /etc/sdw/<namespace>/<workload>/, or where a cluster admin allows it
// elsewhere (src/api/filePaths.ts); units name the files they use and what a
// change does to them (units[].files, as a Pod's volumeMounts name its volumes;
// changeMode as Nomad's template change_mode). Secret values never enter a
// SystemdUnitSet in plaintext: the controller seals them for one node's key.
export { FILES_ROOT };

const keyRef = (kind: 'ConfigMap' | 'Secret'): JSONSchema => ({
  type: 'object',
  description: `A key of a ${kind} in the workload's namespace.`,
  required: ['name', 'key'],
  properties: {
    name: str(LIMITS.keyRefLength, { description: `The ${kind}'s name.`, minLength: 1, pattern: PATTERNS.dnsSubdomain }),
    key: str(LIMITS.keyRefLength, { description: `The key in the ${kind}'s data.`, minLength: 1, pattern: PATTERNS.dataKey }),
  },
});

const fileSchema: JSONSchema = {
  type: 'object',
  description:
    "A file the agent writes on every node of the workload, before the units that use it start; written atomically, owned by the user of the units that use it (a dynamic user's units read it through LoadCredential=).",
  required: ['name', 'path'],
  properties: {
    name: unitNameStr(
      "The file's name, which units[].files refer to (and a dynamic user's units find it by: $CREDENTIALS_DIRECTORY/<name>).",
    ),
    path: pathStr(
      'Where the file is on the node: an absolute path under /etc/sdw/<namespace>/<workload>/ (the directory the operator owns for the workload and removes with it), or elsewhere where the namespace carries the label systemd.operators.dev/allow-file-paths=true and every SystemdWorkloadPolicy covering it lists a prefix of the path in allowedFilePaths (the agent then never overwrites a file it did not write and removes only what it wrote). Never under ' +
        FORBIDDEN_FILE_PREFIXES.join(', ') +
        '.',
    ),
    mode: str(4, {
      description: 'The file mode as an octal string (default "0644"; "0600" for a Secret). A Secret file is never written world-readable.',
      pattern: PATTERNS.octalMode,
    }),
    content: str(LIMITS.fileContentLength, {
      description: "The file's content, inline (stored in the SystemdUnitSet as is: never a secret).",
    }),
    configMapKeyRef: {
      ...keyRef('ConfigMap'),
      description: "The file's content: a key of a ConfigMap in the workload's namespace; an edit rolls out.",
    },
    secretKeyRef: {
      ...keyRef('Secret'),
      description:
        "The file's content: a key of a Secret in the workload's namespace, sealed by the controller for each node's agent (never stored in plaintext in a SystemdUnitSet); default mode 0600.",
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '(has(self.content) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) + (has(self.secretKeyRef) ? 1 : 0) == 1',
      message: MESSAGES.fileSource,
    },
    {
      rule: `!${JSON.stringify(FORBIDDEN_FILE_PREFIXES).replace(/"/g, "'")}.exists(p, self.path == p || self.path.startsWith(p + '/'))`,
      message: MESSAGES.filePathForbidden,
      fieldPath: '.path',
      reason: 'FieldValueForbidden',
    },
  ],
};

const filesSchema: JSONSchema = {
  type: 'array',
  description:
    'Files delivered beside the units (config files, secrets), under /etc/sdw/<namespace>/<workload>/ (elsewhere only where a cluster admin allows it: see path).',
  maxItems: LIMITS.files,
  items: fileSchema,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  'x-kubernetes-validations': [{ rule: 'self.all(f, self.exists_one(g, g.path == f.path))', message: MESSAGES.filePathUnique }],
};

/**
 * The root rule: a file under /etc/sdw lies in the workload's own directory (CRD
 * rules see metadata.name, not the namespace: config/policy/workload_default_file_paths.yaml
 * checks that component). Files elsewhere are admission policies' to judge.
 */
const filesOwnedRule: ValidationRule = {
  rule: `!has(self.spec.files) || self.spec.files.all(f, !(f.path == '${FILES_ROOT}' || f.path.startsWith('${FILES_ROOT}/')) || (f.path.split('/').size() >= 6 && f.path.split('/')[4] == self.metadata.name))`,
  message: MESSAGES.filePathOwned,
  fieldPath: '.spec.files',
};

const unitFileRefsSchema: JSONSchema = {
  type: 'array',
  description: 'The files of spec.files this unit uses, and what a change of one does to it.',
  maxItems: LIMITS.files,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    description: 'One file the unit uses.',
    required: ['name'],
    properties: {
      name: unitNameStr('A file of spec.files.'),
      changeMode: {
        type: 'string',
        enum: ['restart', 'reload', 'none'],
        default: 'restart',
        description:
          "What a change of the file's content does to the unit (as Nomad's change_mode): restart (the default), reload (systemd's reload: the unit's reload signal or command, same process) or none. Rendered as X-SDW-File-Restart=, -Reload= or -None= <path> <digest> in [Unit]; rolled out under maxUnavailable like any change.",
      },
    },
  },
};

const reloadSchema: JSONSchema = {
  type: 'object',
  description: 'How the unit reloads its files without a restart: ExecReload=. For changeMode reload.',
  properties: {
    signal: {
      type: 'string',
      enum: ['HUP', 'USR1', 'USR2'],
      description: 'ExecReload=/bin/kill -<signal> $MAINPID.',
    },
    command: {
      type: 'array',
      description: 'ExecReload= with this argv (quoted and escaped as command); command[0] is an absolute path.',
      minItems: 1,
      maxItems: LIMITS.command,
      items: safeStr(LIMITS.argLength),
      'x-kubernetes-list-type': 'atomic',
      'x-kubernetes-validations': [
        {
          rule: ARGV0_ABSOLUTE,
          message: MESSAGES.commandPath,
        },
      ],
    },
  },
  'x-kubernetes-validations': [{ rule: 'has(self.signal) != has(self.command)', message: MESSAGES.reloadOne }],
};

const envValueFromSchema: JSONSchema = {
  type: 'object',
  description:
    "The value from a ConfigMap or Secret key: written to the unit's EnvironmentFile= (mode 0600, root-owned, read by systemd), never into the unit file; a Secret's value is sealed for the node.",
  properties: { configMapKeyRef: keyRef('ConfigMap'), secretKeyRef: keyRef('Secret') },
  'x-kubernetes-validations': [{ rule: 'has(self.configMapKeyRef) != has(self.secretKeyRef)', message: MESSAGES.envValueFromOne }],
};

/** The spec-level rule: every file a unit names is declared, and reload is there when used. */
const unitFileRefsRules: ValidationRule[] = [
  {
    rule: '!self.units.exists(u, has(u.files) && u.files.exists(r, !has(self.files) || !self.files.exists(f, f.name == r.name)))',
    message: MESSAGES.fileRefsExist,
    fieldPath: '.units',
  },
];

/** SystemdUnitSet.spec.files: what the agent writes, as the controller resolved it for this node. */
const deliveredFileSchema: JSONSchema = {
  type: 'object',
  description:
    'One file the agent writes under /etc/sdw/<namespace>/<workload>/, or at a path a policy allows elsewhere (resolved by the controller).',
  required: ['path', 'mode', 'digest'],
  properties: {
    path: pathStr('The absolute path on the node.'),
    mode: str(4, { description: 'The file mode, octal.', pattern: PATTERNS.octalMode }),
    owner: str(LIMITS.userLength, { description: "The file's owner (the units' user); absent: root.", pattern: PATTERNS.user }),
    group: str(LIMITS.userLength, { description: "The file's group; absent: the owner's.", pattern: PATTERNS.user }),
    source: str(512, {
      description:
        'Where the content comes from, for people: inline, configmap/<name>/<key>, secret/<name>/<key> or env (an EnvironmentFile).',
    }),
    digest: str(80, {
      description:
        "A digest of the content (sha256 of non-secret content; for a Secret's, an HMAC keyed with the Secret's uid, so it does not reveal a guessable value): what the units' X-SDW-File-* lines carry.",
    }),
    content: str(LIMITS.fileContentLength * 2, { description: 'The content, for a file that holds no secret value.' }),
    sealed: str(LIMITS.fileContentLength * 2, {
      description:
        "The content sealed for this node's agent (X25519 + HKDF-SHA256 + AES-256-GCM, base64): only the holder of the key in status.sealingKey opens it. Absent until that key is known.",
    }),
    sealedFor: str(64, { description: 'The fingerprint of the node key sealed was written for (the first 16 bytes of its sha256, hex).' }),
  },
};
// ---- probes (as a Pod's; the agent runs them: src/agent/probes.ts) ----
const portSchema: JSONSchema = { type: 'integer', description: 'A TCP port on host, 1-65535.', minimum: 1, maximum: 65535 };
const probeHostSchema = (dflt: string): JSONSchema =>
  str(LIMITS.probeHostLength, {
    description: `The host to connect to (default ${dflt}: the node itself, where the unit runs).`,
    minLength: 1,
    pattern: PATTERNS.probeHost,
  });
const seconds = (description: string, minimum: number): JSONSchema => ({
  type: 'integer',
  description,
  minimum,
  maximum: LIMITS.probeSeconds,
});
const threshold = (description: string): JSONSchema => ({ type: 'integer', description, minimum: 1, maximum: LIMITS.probeThreshold });

const probeSchema = (what: string): JSONSchema => ({
  type: 'object',
  description: `${what} Exactly one handler (exec, httpGet, tcpSocket). Not rendered into the unit file: the agent on the node runs it and reports the result in the unit's status.`,
  properties: {
    exec: {
      type: 'object',
      description:
        "Runs command on the node as the unit's user (User=, Group=, DynamicUser= of the unit) in a transient systemd unit; exit 0 is success.",
      required: ['command'],
      properties: {
        command: {
          type: 'array',
          description: 'argv; command[0] is an absolute path. Not run through a shell.',
          minItems: 1,
          maxItems: LIMITS.command,
          items: safeStr(LIMITS.argLength),
          'x-kubernetes-list-type': 'atomic',
          'x-kubernetes-validations': [{ rule: ARGV0_ABSOLUTE, message: MESSAGES.probeCommandPath }],
        },
      },
    },
    httpGet: {
      type: 'object',
      description: 'An HTTP GET from the agent; a status from 200 to 399 is success (redirects are not followed).',
      required: ['port'],
      properties: {
        port: portSchema,
        path: str(LIMITS.pathLength, { description: "The request path (default '/').", pattern: PATTERNS.httpPath }),
        host: probeHostSchema('127.0.0.1'),
        scheme: {
          type: 'string',
          description: 'HTTP or HTTPS (default HTTP); HTTPS does not verify the certificate, as the kubelet does not.',
          enum: ['HTTP', 'HTTPS'],
        },
      },
    },
    tcpSocket: {
      type: 'object',
      description: 'A TCP connect from the agent; an accepted connection is success.',
      required: ['port'],
      properties: { port: portSchema, host: probeHostSchema('127.0.0.1') },
    },
    initialDelaySeconds: seconds('Seconds after the unit (re)starts before the first probe (default 0).', 0),
    periodSeconds: seconds('Seconds between probes (default 10).', 1),
    timeoutSeconds: seconds('Seconds after which a probe counts as failed (default 1).', 1),
    failureThreshold: threshold('Consecutive failures that make the probe fail (default 3).'),
    successThreshold: threshold('Consecutive successes that make the probe hold again after a failure (default 1; 1 for liveness).'),
  },
  'x-kubernetes-validations': [
    {
      rule: '(has(self.exec) ? 1 : 0) + (has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) == 1',
      message: MESSAGES.probeHandler,
    },
  ],
});

// ---- SystemdWorkload ----
const unitSchema: JSONSchema = {
  type: 'object',
  description: 'One systemd unit of the workload, as a container is one of a Pod.',
  required: ['name', 'command'],
  properties: {
    name: unitNameStr('DNS label; the systemd unit is sdw-<namespace>_<workload>_<name>.service.'),
    type: {
      type: 'string',
      description:
        'service (long-running: Type=exec, so a missing binary fails the start), notify (long-running: Type=notify and NotifyAccess=all, active, and so ready, only once it sends READY=1 with sd_notify or systemd-notify) or oneshot (runs to completion: Type=oneshot, RemainAfterExit=yes).',
      enum: ['service', 'notify', 'oneshot'],
      default: 'service',
    },
    command: {
      type: 'array',
      description:
        'The argv, rendered to ExecStart= with every argument double-quoted and escaped; command[0] is an absolute path. Not run through a shell; no variable or specifier expansion.',
      minItems: 1,
      maxItems: LIMITS.command,
      items: safeStr(LIMITS.argLength),
      'x-kubernetes-list-type': 'atomic',
      'x-kubernetes-validations': [
        {
          rule: ARGV0_ABSOLUTE,
          message: MESSAGES.commandPath,
        },
      ],
    },
    env: {
      type: 'array',
      description: 'Environment variables, one Environment="NAME=value" line each; values are literal.',
      maxItems: LIMITS.env,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        description: 'One environment variable of the unit.',
        required: ['name'],
        properties: {
          name: str(LIMITS.envNameLength, {
            description: 'The variable name, a C identifier: NAME in Environment="NAME=value".',
            minLength: 1,
            pattern: PATTERNS.envName,
          }),
          value: {
            ...safeStr(LIMITS.envValueLength),
            description: 'The value, literal: rendered escaped in Environment="NAME=value" (no $ or % expansion).',
          },
          valueFrom: envValueFromSchema,
        },
        'x-kubernetes-validations': [
          { rule: "!(has(self.value) && self.value != '' && has(self.valueFrom))", message: MESSAGES.envValueOrFrom },
        ],
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
      description: "The unit's cgroup limits and weights, in Kubernetes quantities.",
      properties: {
        limits: {
          type: 'object',
          description: 'Hard ceilings (MemoryMax=, CPUQuota=, TasksMax=); a change of these alone is applied live, without a restart.',
          properties: {
            memory: positiveQuantity('Memory ceiling, a quantity (256Mi, 1G): MemoryMax= in bytes.', MESSAGES.memory),
            cpu: positiveQuantity('CPU ceiling, a quantity (500m, 2): CPUQuota= (500m -> 50%, 2 -> 200%).', MESSAGES.cpuLimit),
            tasks: {
              type: 'integer',
              description: 'Most processes and threads of the unit: TasksMax=.',
              minimum: 1,
              maximum: LIMITS.tasks,
            },
          },
        },
        requests: {
          type: 'object',
          description: 'Shares under contention (CPUWeight=).',
          properties: {
            cpu: positiveQuantity(
              'CPU share, a quantity: CPUWeight= (1 CPU = 100, the systemd default; clamped to 1..10000).',
              MESSAGES.cpuRequest,
            ),
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
      description:
        'Cron expression, read exactly as Kubernetes CronJob reads it (robfig/cron v3): the unit runs from a systemd timer ' +
        '(one OnCalendar= per cron case, Persistent=true) at the same times as a CronJob would, except at a fall-back ' +
        'daylight saving change, where a time in the repeated hour runs once (the first occurrence), not twice. ' +
        '7 as Sunday, upper-case descriptors, @every and schedules that never fire are refused.',
      maxLength: LIMITS.scheduleLength,
      'x-kubernetes-validations': [
        { rule: `self.matches('${SCHEDULE_PATTERN}')`, message: MESSAGES.schedule },
        { rule: SCHEDULE_FIRES_RULE, message: MESSAGES.scheduleFires },
      ],
    },
    timeZone: str(LIMITS.timeZoneLength, {
      description:
        "IANA time zone of schedule, as CronJob's spec.timeZone (appended to each OnCalendar=); default the node's local time. " +
        'At the fall-back change a time in the repeated hour runs once, at its first occurrence (CronJob runs it twice).',
      pattern: PATTERNS.timeZone,
      'x-kubernetes-validations': [
        // An unknown zone makes getHours() fail, and the API server refuses the object naming this field.
        { rule: "timestamp('2000-01-01T00:00:00Z').getHours(self) >= 0", message: MESSAGES.timeZoneKnown },
      ],
    }),
    files: unitFileRefsSchema,
    reload: reloadSchema,
    sandbox: {
      type: 'object',
      description: "systemd's sandboxing of the unit's processes (a SystemdWorkloadPolicy may require some).",
      properties: {
        privateTmp: { type: 'boolean', description: 'A private /tmp and /var/tmp for the unit: PrivateTmp=.' },
        protectSystem: {
          type: 'string',
          enum: ['false', 'true', 'full', 'strict'],
          description:
            'Read-only /usr and /boot (true), also /etc (full), or the whole file system but /dev, /proc, /sys (strict): ProtectSystem=.',
        },
        protectHome: {
          type: 'string',
          enum: ['false', 'true', 'read-only', 'tmpfs'],
          description: '/home, /root and /run/user hidden (true), read-only, or an empty tmpfs: ProtectHome=.',
        },
        noNewPrivileges: {
          type: 'boolean',
          description: 'No privilege gain through setuid binaries or file capabilities: NoNewPrivileges=.',
        },
        readOnlyPaths: {
          type: 'array',
          description: 'Paths the unit sees read-only: ReadOnlyPaths=.',
          maxItems: LIMITS.paths,
          items: pathStr('An absolute path.'),
          'x-kubernetes-list-type': 'atomic',
        },
        readWritePaths: {
          type: 'array',
          description: 'Paths the unit may write even under protectSystem: ReadWritePaths=.',
          maxItems: LIMITS.paths,
          items: pathStr('An absolute path.'),
          'x-kubernetes-list-type': 'atomic',
        },
      },
    },
    artifacts: unitArtifactsSchema,
    readinessProbe: probeSchema(
      'When the unit counts as ready: active and this probe holding. READY, the node phase and the rollout follow it.',
    ),
    livenessProbe: probeSchema(
      'When the unit is alive: failureThreshold consecutive failures make the agent restart the unit (reason LivenessProbeFailed).',
    ),
  },
  'x-kubernetes-validations': [
    {
      rule: '!has(self.livenessProbe) || !has(self.livenessProbe.successThreshold) || self.livenessProbe.successThreshold == 1',
      message: MESSAGES.livenessSuccess,
      fieldPath: '.livenessProbe.successThreshold',
    },
    {
      rule: "!(has(self.readinessProbe) || has(self.livenessProbe)) || ((!has(self.type) || self.type != 'oneshot') && !has(self.schedule))",
      message: MESSAGES.probeOneshot,
      fieldPath: '.type',
      reason: 'FieldValueForbidden',
    },
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
    {
      rule: "!has(self.files) || !self.files.exists(r, has(r.changeMode) && r.changeMode == 'reload') || has(self.reload)",
      message: MESSAGES.reloadNeeded,
      fieldPath: '.files',
    },
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
  description: 'A node taint the workload tolerates, as a Pod toleration (no tolerationSeconds: units are never evicted).',
  properties: {
    key: str(316, { description: 'The taint key; empty with operator Exists matches every taint.' }),
    operator: { type: 'string', enum: ['Exists', 'Equal'], description: 'Equal (the default) compares value; Exists matches any value.' },
    value: str(63, { description: 'The taint value, for operator Equal.' }),
    effect: {
      type: 'string',
      enum: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'],
      description: 'The taint effect matched; empty matches all effects.',
    },
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
  description: 'What runs (units), on which nodes (nodeSelector, tolerations) and how changes roll out.',
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
    files: filesSchema,
    artifacts: artifactsSchema,
    updateStrategy: {
      type: 'object',
      description: 'How a changed spec reaches the nodes.',
      default: {},
      properties: {
        type: {
          type: 'string',
          enum: ['RollingUpdate'],
          default: 'RollingUpdate',
          description: 'RollingUpdate: nodes get the new units in batches, each after the previous is ready.',
        },
        rollingUpdate: {
          type: 'object',
          description: 'The batch size of a RollingUpdate.',
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
            autoRevert: {
              type: 'boolean',
              description:
                'When a new revision fails on a node (its units fail or restart), or runs there but is not ready within progressDeadlineSeconds, ' +
                'before the rollout completes, stop the rollout and ' +
                'render the updated nodes from the last revision that was healthy everywhere (status.currentRevision) again; the ' +
                'spec stays as written, the RolledBack condition and a Warning Event name the revision, the node and the reason. ' +
                'A new spec generation starts a new rollout. Default false.',
            },
            partition: {
              type: 'integer',
              description:
                'Nodes kept on the old version (a canary hold, as OpenKruise Advanced DaemonSet): the first (matching nodes - partition) nodes, in nodeOrder and then name order, are updated, the rest wait until the partition is lowered (`kubectl sdw rollout promote` sets it to 0). Nodes new to the workload get the current version. Default 0. A partition of at least the node count updates no node; the Progressing condition and an Event say so.',
              minimum: 0,
              maximum: LIMITS.partition,
            },
            nodeOrder: {
              type: 'object',
              description:
                'The order in which nodes are updated, by failure domain: nodes are grouped by the value of the node label labelKey (sorted by value; nodes without the label last), and no node of the next group is updated before every node of the current group is updated and available. Absent: node name order.',
              required: ['labelKey'],
              properties: {
                labelKey: str(LIMITS.labelKeyLength, {
                  description: 'The node label whose values are the failure domains, e.g. topology.kubernetes.io/zone.',
                  minLength: 1,
                  pattern: PATTERNS.labelKey,
                }),
              },
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
    progressDeadlineSeconds: {
      type: 'integer',
      description:
        'Seconds a rollout may go without progress (a node more updated or ready) before the workload reads Stalled, reason ProgressDeadlineExceeded, with a Warning Event; a crash loop stalls at this deadline. Rendered to no unit file. Default 600.',
      minimum: 1,
      maximum: LIMITS.progressDeadlineSeconds,
      default: 600,
    },
    paused: { type: 'boolean', description: 'Stop rolling out changes (`kubectl sdw rollout pause` / `resume` set it).' },
    revisionHistoryLimit: {
      type: 'integer',
      format: 'int32',
      description:
        'How many old ControllerRevisions (apps/v1, one per distinct rendered set of units, named <workload>-<hash>) to keep ' +
        'for `kubectl sdw rollout undo`; the oldest ones no node runs are deleted beyond it. Default 10.',
      minimum: 0,
    },
  },
  'x-kubernetes-validations': [...unitFileRefsRules, artifactRefsRule],
};

const nodeSummarySchema: JSONSchema = {
  type: 'object',
  description: "One node's summary, from its SystemdUnitSet's status.",
  required: ['node', 'phase', 'restarts'],
  properties: {
    node: str(253, { description: 'The Node name.' }),
    phase: {
      type: 'string',
      enum: ['Pending', 'Running', 'Completed', 'Failed', 'Unknown'],
      description: "The node's phase: Unknown when its agent's heartbeat expired.",
    },
    restarts: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: "Automatic restarts of the node's units (systemd's NRestarts).",
    },
    exitCode: { type: 'integer', format: 'int32', description: 'The last exit status of a failed unit on the node.' },
    memoryBytes: { type: 'integer', format: 'int64', minimum: 0, description: "The units' memory use (MemoryCurrent), in bytes." },
    cpuSeconds: { type: 'number', description: "The units' CPU time (CPUUsageNSec) in seconds; absent where systemd cannot account it." },
    message: str(LIMITS.messageLength, { description: 'What went wrong on the node, from the agent.' }),
  },
};

const workloadStatusSchema: JSONSchema = {
  type: 'object',
  description: 'Written by the controller from the children: what kubectl get sdw shows.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The metadata.generation this status was computed for.' },
    hash: {
      type: 'string',
      maxLength: 64,
      description: "Content hash of the current spec's units: what every node has when the rollout is done.",
    },
    desiredNodes: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      description: 'Nodes that match nodeSelector and tolerations (column DESIRED).',
    },
    currentNodes: { type: 'integer', format: 'int32', minimum: 0, description: 'Nodes that have a SystemdUnitSet of the workload.' },
    readyNodes: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      description: 'Nodes whose units are all up for minReadySeconds (column READY).',
    },
    updatedNodes: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      description: 'Nodes running the current spec (status.hash; column UP-TO-DATE).',
    },
    failedNodes: { type: 'integer', format: 'int32', minimum: 0, description: 'Nodes where a unit failed.' },
    unknownNodes: { type: 'integer', format: 'int32', minimum: 0, description: "Nodes whose agent's heartbeat Lease expired." },
    restarts: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: "Automatic restarts of the units on every node (systemd's NRestarts; column RESTARTS).",
    },
    phase: {
      type: 'string',
      enum: ['Pending', 'Progressing', 'Running', 'Completed', 'Degraded', 'Failed'],
      description: 'The summary (column PHASE): Degraded when a unit failed on some nodes, Failed on all of them or for an invalid spec.',
    },
    conditions: conditionsSchema,
    lastProgress: {
      type: 'object',
      description:
        'When the rollout last made progress and the updated and ready node counts it had then: spec.progressDeadlineSeconds counts from time, and only more nodes updated or ready than these is progress (a unit flapping ready in a crash loop is not). Absent while the rollout is complete.',
      required: ['time', 'updatedNodes', 'readyNodes'],
      properties: {
        time: {
          type: 'string',
          format: 'date-time',
          description: 'When the rollout last made progress; the progress deadline counts from here.',
        },
        updatedNodes: {
          type: 'integer',
          format: 'int32',
          minimum: 0,
          description: 'status.updatedNodes at that time: more nodes updated than this is progress.',
        },
        readyNodes: {
          type: 'integer',
          format: 'int32',
          minimum: 0,
          description: 'status.readyNodes at that time: more nodes ready than this is progress.',
        },
      },
    },
    nodes: {
      type: 'array',
      description: 'Per-node summaries, the problem nodes first (bounded).',
      maxItems: LIMITS.nodeSummaries,
      items: nodeSummarySchema,
      'x-kubernetes-list-type': 'atomic',
    },
    currentRevision: {
      type: 'string',
      maxLength: 253,
      description: 'The ControllerRevision every node ran when a rollout last completed: what auto-revert returns to.',
    },
    updateRevision: { type: 'string', maxLength: 253, description: "The ControllerRevision of the current spec's units." },
    updateRevisionNumber: { type: 'integer', format: 'int64', minimum: 0, description: 'The revision number of updateRevision.' },
  },
};

export const workloadSchema: JSONSchema = {
  type: 'object',
  description: 'SystemdWorkload runs systemd units on every matching node, as a DaemonSet runs containers.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string', description: 'The versioned schema of this object: systemd.operators.dev/v1alpha1.' },
    kind: { type: 'string', description: 'The kind of this object (REST resource).' },
    metadata: { type: 'object' },
    spec: workloadSpecSchema,
    status: workloadStatusSchema,
  },
  'x-kubernetes-validations': [
    { rule: `size(self.metadata.name) <= ${LIMITS.workloadNameLength}`, message: MESSAGES.workloadName, reason: 'FieldValueInvalid' },
    filesOwnedRule,
  ],
};

// ---- SystemdUnitSet (controller-written spec; the schema is defence in depth for the agent) ----
const renderedFileSchema: JSONSchema = {
  type: 'object',
  description: 'One unit file the agent writes to /etc/systemd/system.',
  required: ['name', 'content'],
  properties: {
    name: str(255, { description: 'The file name: sdw-<namespace>_<workload>_<unit>.service or .timer.', pattern: PATTERNS.unitFileName }),
    content: str(LIMITS.fileContentLength, {
      description: 'The exact file content, rendered by the controller with the ownership marker.',
    }),
  },
};

const unitSetSpecSchema: JSONSchema = {
  type: 'object',
  description: "Written by the controller: this node's rendered units. Not for editing by hand.",
  required: ['nodeName', 'units', 'hash'],
  properties: {
    nodeName: str(253, {
      description: 'The Node whose agent applies these units (selectable: the agent watches spec.nodeName=<its node>).',
      minLength: 1,
    }),
    units: {
      type: 'array',
      description: "The workload's units, rendered for this node.",
      maxItems: LIMITS.units,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        description: 'One unit of the workload and its files.',
        required: ['name', 'type', 'scheduled', 'files'],
        properties: {
          name: unitNameStr('The workload unit name.'),
          type: {
            type: 'string',
            enum: ['service', 'notify', 'oneshot'],
            description: "The unit's type in the workload: Type=exec, Type=notify or Type=oneshot.",
          },
          scheduled: { type: 'boolean', description: 'true: the unit has a schedule, and a .timer starts it.' },
          restart: { ...restartPolicy, description: 'The restart policy in effect (defaults applied).' },
          backOff: {
            type: 'object',
            description:
              "The agent's crash-loop back-off for this unit: restart.delaySeconds and restart.maxDelaySeconds with defaults applied.",
            required: ['delaySeconds', 'maxDelaySeconds'],
            properties: {
              delaySeconds: {
                type: 'integer',
                minimum: 0,
                maximum: LIMITS.delaySeconds,
                description: 'The first back-off delay (restart.delaySeconds).',
              },
              maxDelaySeconds: {
                type: 'integer',
                minimum: 1,
                maximum: LIMITS.delaySeconds,
                description: 'The back-off cap (restart.maxDelaySeconds).',
              },
            },
          },
          readinessProbe: probeSchema("The workload unit's readinessProbe, defaults applied."),
          livenessProbe: probeSchema("The workload unit's livenessProbe, defaults applied."),
          runAs: {
            type: 'object',
            description: "The unit's user, group and dynamicUser, for exec probes (set only when a probe has exec).",
            properties: {
              user: str(LIMITS.userLength, { description: "The unit's user (User=)." }),
              group: str(LIMITS.userLength, { description: "The unit's group (Group=)." }),
              dynamicUser: { type: 'boolean', description: 'The unit runs as a dynamic user (DynamicUser=yes).' },
            },
          },
          files: {
            type: 'array',
            description: 'The .service file, and the .timer of a scheduled unit.',
            minItems: 1,
            maxItems: 2,
            items: renderedFileSchema,
            'x-kubernetes-list-type': 'atomic',
          },
        },
      },
    },
    files: {
      type: 'array',
      description: "The files the agent writes beside the units (spec.files of the workload, and the units' EnvironmentFiles).",
      maxItems: LIMITS.files + LIMITS.units,
      items: deliveredFileSchema,
      'x-kubernetes-list-type': 'atomic',
    },
    artifacts: childArtifactsSchema,
    hash: str(64, {
      description: "SHA-256 of the units' content: equal to the workload's status.hash when this node is up to date.",
      pattern: PATTERNS.sha256,
    }),
    shortHash: str(12, { description: 'The first 12 hex digits of hash, as a column and in X-SDW-Hash=.', pattern: '^[0-9a-f]{12}$' }),
  },
};

const probeResultSchema: JSONSchema = {
  type: 'object',
  description: "A probe's state on the node, as the agent last saw it (no probe time: an unchanged result writes no status).",
  required: ['result'],
  properties: {
    result: {
      type: 'string',
      enum: ['Success', 'Failure', 'Pending'],
      description:
        'Success: the probe holds; Failure: failureThreshold failures in a row; Pending: a readiness probe not yet holding since the unit (re)started.',
    },
    consecutiveFailures: { type: 'integer', format: 'int32', minimum: 0, description: 'Failures in a row so far (absent when 0).' },
    message: str(LIMITS.messageLength, { description: "The last probe's outcome, e.g. 'GET http://127.0.0.1:8080/: HTTP 200'." }),
  },
};

const unitStatusSchema: JSONSchema = {
  type: 'object',
  description: 'What systemd reports for one unit, read by the agent over D-Bus.',
  required: ['name', 'unit'],
  properties: {
    name: str(LIMITS.unitNameLength, { description: 'The workload unit name.' }),
    unit: str(255, { description: 'The systemd unit, e.g. sdw-default_web_server.service.' }),
    activeState: str(64, { description: "systemd's ActiveState: active, activating, deactivating, inactive or failed." }),
    subState: str(64, { description: "systemd's SubState, e.g. running, exited, auto-restart, dead." }),
    result: str(64, { description: "systemd's Result of the last run: success, exit-code, signal, oom-kill, timeout..." }),
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
    exitCode: {
      type: 'integer',
      format: 'int32',
      description: "How the main process last ended: systemd's ExecMainCode (1 exited, 2 killed, 3 dumped).",
    },
    exitStatus: { type: 'integer', format: 'int32', description: 'The exit status or signal number of the main process (ExecMainStatus).' },
    lastStartTime: { type: 'string', format: 'date-time', description: 'When the main process last started (ExecMainStartTimestamp).' },
    lastExitTime: { type: 'string', format: 'date-time', description: 'When the main process last ended (ExecMainExitTimestamp).' },
    lastTermination: {
      type: 'object',
      description:
        "The last unexpected end of the unit, kept from systemd's signals (as a Pod's lastState.terminated): a crash loop read by polling often looks healthy.",
      required: ['code', 'status', 'time', 'reason'],
      properties: {
        code: str(64, { description: 'How it ended: exited, killed or dumped.' }),
        status: { type: 'integer', format: 'int32', description: 'The exit status, or the signal number.' },
        time: { type: 'string', format: 'date-time', description: 'When it ended.' },
        reason: str(LIMITS.messageLength, { description: 'Why, e.g. Error, OOMKilled, or the signal name.' }),
      },
    },
    memoryBytes: { type: 'integer', format: 'int64', minimum: 0, description: "The unit's cgroup memory use (MemoryCurrent), in bytes." },
    cpuNanoseconds: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: "The unit's CPU time (CPUUsageNSec); absent where systemd cannot account it (cgroup v1).",
    },
    tasks: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: "The unit's processes and threads (TasksCurrent); absent when unknown, never 0.",
    },
    timer: {
      type: 'object',
      description: 'The .timer of a scheduled unit.',
      properties: {
        lastTrigger: { type: 'string', format: 'date-time', description: 'When the timer last started the unit (LastTriggerUSec).' },
        nextElapse: { type: 'string', format: 'date-time', description: 'When it will next (NextElapseUSecRealtime).' },
        lastResult: str(64, { description: "The timer's Result." }),
      },
    },
    message: str(LIMITS.messageLength, { description: 'What the agent could not do for the unit, or what systemd said.' }),
    ready: { type: 'boolean', description: 'Active, and its readinessProbe (if any) holds; READY and the rollout count it.' },
    probes: {
      type: 'object',
      description: "The agent's last probe results.",
      properties: {
        readiness: probeResultSchema,
        liveness: probeResultSchema,
      },
    },
  },
};

const unitSetStatusSchema: JSONSchema = {
  type: 'object',
  description: "Written by the node's agent: what systemd reports for each unit.",
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The metadata.generation the agent last applied.' },
    appliedHash: str(64, { description: 'The spec.hash whose files are on the node.' }),
    phase: {
      type: 'string',
      enum: ['Pending', 'Running', 'Completed', 'Failed', 'Unknown'],
      description: "The node's phase for the workload: Running when every unit is up, Failed when one failed.",
    },
    readySince: { type: 'string', format: 'date-time', description: 'Since when every unit has been up (for minReadySeconds).' },
    units: {
      type: 'array',
      description: 'Per unit, what systemd reports.',
      maxItems: LIMITS.units,
      items: unitStatusSchema,
      'x-kubernetes-list-type': 'atomic',
    },
    message: str(LIMITS.messageLength, { description: 'What the agent could not do on the node (e.g. a failed daemon reload).' }),
    conditions: conditionsSchema,
    sealingKey: str(64, {
      description:
        "The node agent's X25519 public key (base64): the controller seals this node's Secret values for it. Only this node's agent may write it (config/policy/agent_node_identity.yaml).",
    }),
  },
};

export const unitSetSchema: JSONSchema = {
  type: 'object',
  description: 'SystemdUnitSet: the rendered units of one SystemdWorkload for one node (as a Pod is to a DaemonSet).',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string', description: 'The versioned schema of this object: systemd.operators.dev/v1alpha1.' },
    kind: { type: 'string', description: 'The kind of this object (REST resource).' },
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
  filePaths: 64,
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
  description: 'What workloads in the listed namespaces may do; every field left out allows anything but root.',
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
        description: 'A node label the nodeSelector may use.',
        required: ['key'],
        properties: {
          key: str(316, { description: 'The label key.', minLength: 1 }),
          values: {
            type: 'array',
            description: 'The values allowed for key; empty or unset: any value.',
            maxItems: POLICY_LIMITS.nodeSelectorValues,
            items: str(63),
            'x-kubernetes-list-type': 'set',
          },
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
    allowedFilePaths: {
      type: 'array',
      description:
        "Directories under which spec.files[].path may lie outside the workload's own /etc/sdw/<namespace>/<workload>/ (strictly below one of them). A file elsewhere also needs the namespace label systemd.operators.dev/allow-file-paths=true, and every policy covering the namespace must list a prefix of it. Not set: no file outside /etc/sdw. Paths under " +
        FORBIDDEN_FILE_PREFIXES.join(', ') +
        ' and /etc/sdw are refused whatever this lists.',
      maxItems: POLICY_LIMITS.filePaths,
      items: {
        ...pathStr('An absolute, normalised directory (with or without a trailing /), e.g. /opt/app or /etc/app/.'),
        'x-kubernetes-validations': [
          {
            rule: "self.startsWith('/') && !self.contains('//') && !self.matches('(^|/)[.][.]?(/|$)') && self != '/'",
            message: 'must be an absolute, normalised directory other than / (no //, no . or .. component)',
          },
        ],
      },
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
    apiVersion: { type: 'string', description: 'The versioned schema of this object: systemd.operators.dev/v1alpha1.' },
    kind: { type: 'string', description: 'The kind of this object (REST resource).' },
    metadata: { type: 'object' },
    spec: policySpecSchema,
  },
};
