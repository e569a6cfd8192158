// Secret values on their way to a node: the child's spec carries, for each file
// that holds one, the value sealed for the node agent's key (src/sealing), which
// the agent publishes in the child's status (only that node's agent may write
// it: config/policy/agent_node_identity.yaml). Pure: which files to seal, and
// whether a child's seals are stale (a new node key, a value not sealed yet).
import type { DeliveredFile, SystemdUnitSet } from '../api/types.js';
import { keyFingerprint, seal, sealAad } from '../sealing/seal.js';

/**
 * The files with every secret value sealed for key (kept when already sealed for it);
 * without a key, the secret files go unsealed (the agent waits for the key's seal).
 * A file whose digest has no payload (an older value) keeps what it had.
 */
export function sealFiles(
  files: readonly DeliveredFile[] | undefined,
  namespace: string,
  key: string | undefined,
  payloads: ReadonlyMap<string, Buffer>,
): DeliveredFile[] | undefined {
  if (!files) return undefined;
  const fp = key === undefined ? undefined : keyFingerprint(key);
  return files.map((f) => {
    const payload = payloads.get(f.digest);
    if (!payload || key === undefined) return f;
    if (f.sealed && f.sealedFor === fp) return f;
    return { ...f, sealed: seal(key, payload, sealAad(namespace, f.path)), sealedFor: fp };
  });
}

/** Whether the child holds a secret file not sealed for its node's current key that we can seal now. */
export function needsSealing(
  child: Pick<SystemdUnitSet, 'status'> & { spec: Pick<SystemdUnitSet['spec'], 'files'> },
  payloads: ReadonlyMap<string, Buffer>,
): boolean {
  const key = child.status?.sealingKey;
  if (!key || !child.spec.files) return false;
  const fp = keyFingerprint(key);
  return child.spec.files.some((f) => payloads.has(f.digest) && (!f.sealed || f.sealedFor !== fp));
}
