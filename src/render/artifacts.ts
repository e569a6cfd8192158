// Artifacts in the rendered units and the child spec (src/api/artifacts.ts):
// a unit that uses an artifact names its digest in [Unit] (so a new digest
// changes the unit's hash and the rollout restarts it) and gets the stable
// path of the artifact's `current` link in its environment.
import {
  CURRENT_LINK,
  DEFAULT_ARTIFACT_MAX_SIZE,
  DEFAULT_ARTIFACT_TIMEOUT_SECONDS,
  artifactDir,
  artifactEnvName,
  artifactFileName,
} from '../api/artifacts.js';
import { FieldError } from '../api/errors.js';
import { memoryBytes } from '../api/quantity.js';
import type { ArtifactSpec, ChildArtifact, UnitSpec } from '../api/types.js';
import { environmentAssignment } from './escape.js';

export const ARTIFACT_KEY = 'X-SDW-Artifact';

/** The [Unit] and [Service] lines of the artifacts one unit uses. */
export function artifactDirectives(
  ctx: { namespace: string; workload: string; artifacts?: readonly ArtifactSpec[] },
  u: UnitSpec,
  field: string,
): { unit: string[]; service: string[] } {
  const out = { unit: [] as string[], service: [] as string[] };
  (u.artifacts ?? []).forEach((name, i) => {
    const a = ctx.artifacts?.find((x) => x.name === name);
    if (!a) throw new FieldError(`${field}.artifacts[${i}]`, `artifact '${name}' is not declared in spec.artifacts`);
    out.unit.push(`${ARTIFACT_KEY}=${name} sha256:${a.sha256}`);
    const current = `${artifactDir(ctx.namespace, ctx.workload, name)}/${CURRENT_LINK}`;
    out.service.push(`Environment=${environmentAssignment(artifactEnvName(name), current, `${field}.artifacts[${i}]`)}`);
  });
  return out;
}

/** spec.artifacts of a child: every artifact of the workload, defaults applied; undefined when there are none. */
export function childArtifacts(artifacts: readonly ArtifactSpec[] | undefined): ChildArtifact[] | undefined {
  if (!artifacts?.length) return undefined;
  return artifacts.map((a, i) => ({
    name: a.name,
    url: a.url,
    sha256: a.sha256,
    ...(a.unpack ? { unpack: a.unpack } : {}),
    fileName: artifactFileName(a.url, a.name),
    maxSizeBytes: Number(memoryBytes(a.maxSize ?? DEFAULT_ARTIFACT_MAX_SIZE, `spec.artifacts[${i}].maxSize`)),
    timeoutSeconds: a.timeoutSeconds ?? DEFAULT_ARTIFACT_TIMEOUT_SECONDS,
  }));
}
