// Artifacts (issue 15, part 5): files a workload's units need beside their unit
// files, fetched by each node's agent from an http(s) URL, verified by sha256,
// optionally unpacked, into a versioned directory per workload with an atomic
// `current` link. Named after Nomad's artifact stanza (source -> url, the
// checksum option -> a required sha256), without go-getter's other schemes.
//
// This module holds the API side: the schema fragments (schema.ts includes
// them), the messages of their CEL rules (validate.ts twins them), the defaults
// and the paths. It imports nothing of ours at run time, so schema.ts can.
import type { JSONSchema } from './schema.js';

/** Where artifacts live on a node, as units see them (the agent's --artifact-dir is mounted there). */
export const ARTIFACT_ROOT = '/var/lib/sdw/artifacts';
/** The link in an artifact's directory to the version the node's units run. */
export const CURRENT_LINK = 'current';
export const DEFAULT_ARTIFACT_MAX_SIZE = '1Gi';
export const DEFAULT_ARTIFACT_TIMEOUT_SECONDS = 300;
export const ARTIFACT_LIMITS = { artifacts: 16, urlLength: 512, timeoutSeconds: 3600, nameLength: 40 } as const;
export const UNPACK_FORMATS = ['tar.gz', 'zip'] as const;
export type UnpackFormat = (typeof UNPACK_FORMATS)[number];

export const ARTIFACT_MESSAGES = {
  url: 'url: must be an absolute http:// or https:// URL with a host',
  maxSize: "maxSize: must be a quantity greater than 0 (e.g. '256Mi')",
  refsExist: 'units[].artifacts: must name artifacts of spec.artifacts',
} as const;

/** The directory of one artifact on a node, as units see it: <root>/<namespace>/<workload>/<artifact>. */
export function artifactDir(namespace: string, workload: string, artifact: string, root = ARTIFACT_ROOT): string {
  return `${root}/${namespace}/${workload}/${artifact}`;
}

/** The environment variable naming an artifact's `current` directory in the units that use it. */
export function artifactEnvName(artifact: string): string {
  return `SDW_ARTIFACT_${artifact.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * The name a file that is not unpacked gets in its version directory: the URL
 * path's last segment when it is a plain file name, else the artifact's name.
 */
export function artifactFileName(url: string, artifact: string): string {
  let last = '';
  try {
    last = new URL(url).pathname.split('/').pop() ?? '';
  } catch {
    /* validated elsewhere */
  }
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(last) ? last : artifact;
}

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const name = (description: string): JSONSchema => ({
  type: 'string',
  description,
  minLength: 1,
  maxLength: ARTIFACT_LIMITS.nameLength,
  pattern: DNS_LABEL,
});
const sha256: JSONSchema = {
  type: 'string',
  description:
    'The SHA-256 of the file as downloaded (the archive, when unpacked), 64 lowercase hex digits (`sha256sum`). Required: ' +
    'nothing unverified is ever activated. Part of the hash of the units that use the artifact, so a new digest rolls out.',
  maxLength: 64,
  pattern: '^[0-9a-f]{64}$',
};
const url: JSONSchema = {
  type: 'string',
  description:
    'Where the agent downloads the artifact: an absolute http:// or https:// URL (redirects followed, up to 5). The agent fetches ' +
    "it from the node's network; https uses the agent's trusted CAs.",
  maxLength: ARTIFACT_LIMITS.urlLength,
  pattern: '^[^\\x00-\\x20\\x7f-\\x9f]*$',
  'x-kubernetes-validations': [
    {
      rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
      message: ARTIFACT_MESSAGES.url,
    },
  ],
};
const unpack = (description: string): JSONSchema => ({ type: 'string', enum: [...UNPACK_FORMATS], description });
const UNPACK_DESCRIPTION =
  'How the download is unpacked into the version directory: tar.gz (gzip-compressed tar) or zip (stored or deflated). ' +
  "Entries that would land outside the directory (absolute paths, '..', links pointing out, hard links, devices) fail the " +
  "artifact. Absent: the file is kept as downloaded, named after the URL path's last segment, mode 0755.";

/** spec.artifacts of a SystemdWorkload. */
export const artifactsSchema: JSONSchema = {
  type: 'array',
  description:
    "Files the units need beside their unit files (a release of a binary, a bundle), as Nomad's artifact stanza: each node's " +
    'agent downloads every artifact of a revision and verifies its sha256 before it changes any unit, into ' +
    `${ARTIFACT_ROOT}/<namespace>/<workload>/<name>/<sha256>/, and points the link ${CURRENT_LINK} there (renamed into place). ` +
    'Units list what they use in units[].artifacts. A failed download or a digest mismatch leaves the node on its previous ' +
    'version, still running, and its child Failed with the URL and both digests.',
  maxItems: ARTIFACT_LIMITS.artifacts,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    description: 'One artifact: a file (or archive) at an http(s) URL, with its digest.',
    required: ['name', 'url', 'sha256'],
    properties: {
      name: name(
        `The artifact's name (a DNS label): its directory ${ARTIFACT_ROOT}/<namespace>/<workload>/<name>/${CURRENT_LINK}, ` +
          'and the variable SDW_ARTIFACT_<NAME> (upper case, - as _) in the units that use it.',
      ),
      url,
      sha256,
      unpack: unpack(UNPACK_DESCRIPTION),
      maxSize: {
        description:
          'The largest download accepted (a quantity; default 1Gi): a larger Content-Length or body fails the artifact. Unpacked ' +
          'content may be at most 10 times this.',
        'x-kubernetes-int-or-string': true,
        maxLength: 64,
        'x-kubernetes-validations': [
          {
            rule: "type(self) == int ? self > 0 : (isQuantity(self) && quantity(self).isGreaterThan(quantity('0')))",
            message: ARTIFACT_MESSAGES.maxSize,
          },
        ],
      },
      timeoutSeconds: {
        type: 'integer',
        description: 'How long one download may take, from request to last byte (default 300); then it fails and is retried with back-off.',
        minimum: 1,
        maximum: ARTIFACT_LIMITS.timeoutSeconds,
      },
    },
  },
};

/** units[].artifacts of a SystemdWorkload. */
export const unitArtifactsSchema: JSONSchema = {
  type: 'array',
  description:
    'Names of spec.artifacts this unit runs from: each adds X-SDW-Artifact=<name> sha256:<digest> to [Unit] (so a new digest ' +
    `restarts the unit, under the rollout's maxUnavailable) and Environment=SDW_ARTIFACT_<NAME>=${ARTIFACT_ROOT}/<namespace>/` +
    `<workload>/<name>/${CURRENT_LINK}.`,
  maxItems: ARTIFACT_LIMITS.artifacts,
  items: name('The name of an artifact in spec.artifacts.'),
  'x-kubernetes-list-type': 'set',
};

/** The rule on spec: every unit's artifacts exist. */
export const artifactRefsRule = {
  rule: '!has(self.units) || self.units.all(u, !has(u.artifacts) || u.artifacts.all(a, has(self.artifacts) && self.artifacts.exists(x, x.name == a)))',
  message: ARTIFACT_MESSAGES.refsExist,
};

/** spec.artifacts of a SystemdUnitSet: what the agent stages, defaults applied. */
export const childArtifactsSchema: JSONSchema = {
  type: 'array',
  description: "The workload's artifacts, with defaults applied: the agent stages them all before it changes a unit.",
  maxItems: ARTIFACT_LIMITS.artifacts,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    description: 'One artifact to download, verify and unpack.',
    required: ['name', 'url', 'sha256', 'fileName', 'maxSizeBytes', 'timeoutSeconds'],
    properties: {
      name: name('The artifact name (its directory under the workload).'),
      url: { type: 'string', maxLength: ARTIFACT_LIMITS.urlLength, description: 'The http(s) URL to download.' },
      sha256: { ...sha256, description: 'The digest the download must have.' },
      unpack: unpack('tar.gz or zip: unpacked into the version directory; absent: the file kept as fileName.'),
      fileName: {
        type: 'string',
        maxLength: 128,
        pattern: '^[A-Za-z0-9_-][A-Za-z0-9._-]*$',
        description: 'The name of a file that is not unpacked, in its version directory.',
      },
      maxSizeBytes: { type: 'integer', format: 'int64', minimum: 1, description: 'The largest download accepted, in bytes.' },
      timeoutSeconds: {
        type: 'integer',
        minimum: 1,
        maximum: ARTIFACT_LIMITS.timeoutSeconds,
        description: 'How long one download may take.',
      },
    },
  },
};
